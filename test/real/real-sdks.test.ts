import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import path from 'node:path';
import {
  createGrantlineClient,
  createResourceServer,
  type GrantlineClient,
  workloadApi,
} from '@grantline/sdk';
import { decodeJwt } from 'jose';
import { eventually } from '../helpers/broker';
import { closeWorkloadClients, type RealBroker, startRealBroker } from './support/real-broker';
import { type ActorName, stackInfo } from './support/stack-info';

const REPO = path.resolve(__dirname, '../..');
const thumbprint = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

/** Runs a command to its end; its output is kept for the assertion message. */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/**
 * Both SDKs on SPIRE's Workload API (issue 15): identities come from the agent (each actor attested by
 * its own uid), the broker trusts SPIRE's bundles, and the TypeScript client does mTLS with its X509-SVID.
 */
describe('the SDKs with identities from SPIRE', () => {
  let rb: RealBroker;
  const clients: GrantlineClient[] = [];
  const sources: Array<ReturnType<typeof workloadApi>> = [];
  const as = (actor: ActorName, extra: Partial<Parameters<typeof createGrantlineClient>[0]> = {}) => {
    const a = stackInfo().actors[actor];
    const identity = workloadApi({ socket: a.endpoint, spiffeId: a.spiffeId, attempts: 40 });
    const client = createGrantlineClient({ url: rb.broker.url, identity, ...extra });
    sources.push(identity);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    rb = await startRealBroker();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const s of sources) s.close();
    closeWorkloadClients();
    await rb?.stop();
  });

  test('when the TypeScript SDK takes its SVIDs from SPIRE, then it opens a task, gets a grant over JWT and over mTLS, and a kit refuses it after close', async () => {
    const info = stackInfo();
    const task = await as('orchestrator').tasks.open({
      purpose: 'sdk on spire',
      agents: [info.actors.agentA.spiffeId],
      scopes: ['kv:demo/api-key'],
      audiences: ['https://orders.example/api'],
      ttl: '10m',
    });
    expect(task.owner).toBe(info.actors.orchestrator.spiffeId);
    const agent = as('agentA');
    const overJwt = await agent.grants.request(task.id, {
      scopes: ['kv:demo/api-key'],
      resource: 'https://orders.example/api',
    });
    expect(decodeJwt(overJwt.access_token).client_id).toBe(info.actors.agentA.spiffeId);

    const mtlsAgent = as('agentA', {
      url: rb.broker.tlsUrl!,
      mtls: true,
      tls: { serverSpiffeId: info.brokerSpiffeId },
    });
    const overMtls = await mtlsAgent.grants.request(task.id, {
      scopes: ['kv:demo/api-key'],
      resource: 'https://orders.example/api',
    });
    const svid = await sources.at(-1)!.x509Svid();
    expect(decodeJwt(overMtls.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(svid.certChainPem) });

    const r = info.actors.resource;
    const kitIdentity = workloadApi({ socket: r.endpoint, spiffeId: r.spiffeId, attempts: 40 });
    const kit = await createResourceServer({
      broker: rb.broker.url,
      resource: 'https://orders.example/api',
      identity: kitIdentity,
    });
    try {
      await kit.feed!.ready(10_000);
      expect((await kit.verify(overJwt.access_token)).clientId).toBe(info.actors.agentA.spiffeId);
      await as('orchestrator').tasks.close(task.id, 'done');
      // Close answers once the revocation is on the feed; the kit hears it a few ms later (README: p99
      // ~50 ms), so it is given a bounded moment, not assumed to have heard already.
      const refusal = async () =>
        kit.verify(overJwt.access_token).then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(await eventually(async () => (await refusal()) !== undefined, 2000, 20)).toBe(true);
      await expect(kit.verify(overJwt.access_token)).rejects.toMatchObject({ reason: 'revoked' });
    } finally {
      await kit.close();
      kitIdentity.close();
    }
  });

  test('when the Python SDK takes its SVIDs from SPIRE (pytest -m spire), then its tests pass', async () => {
    const info = stackInfo();
    const env = {
      ...process.env,
      GRANTLINE_REAL_PY: JSON.stringify({ broker_url: rb.broker.url, actors: info.actors }),
    };
    const { code, output } = await run(
      'bash',
      ['scripts/test-python', '-m', 'spire', '-p', 'no:cacheprovider'],
      env,
    );
    if (code !== 0) console.log(output);
    expect(code).toBe(0);
    const passed = Number(/(\d+) passed/.exec(output)?.[1] ?? 0);
    expect(passed).toBeGreaterThanOrEqual(3);
    expect(output).not.toMatch(/\d+ (skipped|failed|error)/);
  }, 600_000);
});
