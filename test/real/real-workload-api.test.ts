import { createWorkloadApiClient, WorkloadApiError } from '@grantline/sdk/workload-api';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { runCli } from '../unit/cli/run-cli';
import { closeWorkloadClients, jwtSvid, type RealBroker, startRealBroker } from './support/real-broker';
import { stackInfo } from './support/stack-info';

describe("Grantline's Workload API client and CLI against SPIRE's agent", () => {
  let rb: RealBroker;
  const saved = process.env.SPIFFE_ENDPOINT_SOCKET;

  beforeAll(async () => {
    rb = await startRealBroker();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
    else process.env.SPIFFE_ENDPOINT_SOCKET = saved;
    closeWorkloadClients();
    await rb?.stop();
  });

  test('when agent a asks for its JWT-SVID and the JWT bundles, then the SVID verifies against them', async () => {
    const a = stackInfo().actors.agentA;
    const client = createWorkloadApiClient({ address: a.endpoint });
    try {
      const token = await jwtSvid('agentA', 'orders-api');
      const bundles = await client.fetchJwtBundles();
      const jwks = JSON.parse(bundles.get(`spiffe://${stackInfo().trustDomain}`)!);
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: 'orders-api' });
      expect(payload.sub).toBe(a.spiffeId);
      expect(await client.validateJwtSvid('orders-api', token)).toMatchObject({ spiffeId: a.spiffeId });
      const x509Bundles = await client.fetchX509Bundles();
      expect(x509Bundles.get(`spiffe://${stackInfo().trustDomain}`)?.length).toBeGreaterThan(0);
      const ctx = await client.fetchX509Context();
      expect(ctx.svids.map((s) => s.spiffeId)).toEqual([a.spiffeId]);
      expect(ctx.svids[0]!.certificates[0]!.checkPrivateKey(ctx.svids[0]!.privateKey)).toBe(true);
    } finally {
      client.close();
    }
  });

  test('when a workload asks for an identity it does not have, then SPIRE refuses it (PermissionDenied)', async () => {
    const client = createWorkloadApiClient({ address: stackInfo().actors.agentA.endpoint });
    try {
      const err = await client
        .fetchJwtSvid({ audience: 'grantline', spiffeId: stackInfo().actors.orchestrator.spiffeId })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkloadApiError);
      expect((err as WorkloadApiError).grpcCode).toBe(7);
    } finally {
      client.close();
    }
  });

  test('when the CLI runs with SPIFFE_ENDPOINT_SOCKET, then it is the workload SPIRE attests (no --as)', async () => {
    process.env.SPIFFE_ENDPOINT_SOCKET = stackInfo().actors.orchestrator.endpoint;
    const agent = stackInfo().actors.agentA.spiffeId;
    const opened = await runCli([
      'task',
      'open',
      '--broker',
      rb.broker.url,
      '--purpose',
      'cli on spire',
      '--agent',
      agent,
      '--scope',
      'kv:demo/api-key',
      '--ttl',
      '10m',
      '--quiet',
    ]);
    expect(opened).toMatchObject({ exitCode: 0, stderr: '' });
    const taskId = opened.stdout.trim();
    const shown = await runCli(['task', 'show', taskId, '--broker', rb.broker.url, '--workload-api']);
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain(stackInfo().actors.orchestrator.spiffeId);

    process.env.SPIFFE_ENDPOINT_SOCKET = stackInfo().actors.agentA.endpoint;
    const asAgent = await runCli([
      'task',
      'close',
      taskId,
      '--broker',
      rb.broker.url,
      '--reason',
      'not mine',
    ]);
    expect(asAgent.exitCode).toBe(1);
  });
});
