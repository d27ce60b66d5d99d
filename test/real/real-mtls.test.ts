import { createHash, X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { eventually } from '../helpers/broker';
import { createCa, issueCert } from '../unit/identity/support/pki';
import { mtlsRequest } from './support/mtls-client';
import {
  call,
  closeWorkloadClients,
  type RealBroker,
  startRealBroker,
  x509Svid,
} from './support/real-broker';
import { stackInfo } from './support/stack-info';

const thumbprint = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

describe('mTLS with SPIRE X509-SVIDs: the broker serves its own, rotating; tokens bound to the client', () => {
  let rb: RealBroker;
  let taskId: string;

  beforeAll(async () => {
    rb = await startRealBroker();
    const opened = await call(rb, 'POST', '/v1/tasks', {
      as: 'orchestrator',
      body: {
        purpose: 'mtls',
        agents: [stackInfo().actors.agentA.spiffeId],
        scopes: ['kv:demo/api-key'],
        audiences: ['crm'],
        ttl: '30m',
        limits: { max_grants: 20, max_active: 10, max_depth: 1, max_fanout: 3, budget: 30 },
        context: { task_type: 'analysis', data_sensitivity: 'low', risk_score: 5 },
      },
    });
    expect(opened.status).toBe(201);
    taskId = opened.body.id;
  });
  afterAll(async () => {
    closeWorkloadClients();
    await rb?.stop();
  });

  const grantOverMtls = (client: { certPem: string; keyPem: string } | undefined, bundlePem: string) =>
    mtlsRequest(rb.broker.tlsUrl!, {
      method: 'POST',
      path: `/v1/tasks/${taskId}/grants`,
      client,
      bundlePem,
      brokerId: stackInfo().brokerSpiffeId,
      body: { scopes: ['kv:demo/api-key'], audience: 'crm', ttl: '5m', context: { tool: 'crm' } },
    });

  test('when agent a calls with its SPIRE X509-SVID, then its token is bound to that certificate (cnf x5t#S256)', async () => {
    const svid = await x509Svid('agentA');
    expect(svid.spiffeId).toBe(stackInfo().actors.agentA.spiffeId);
    const leafPem = svid.certificates[0]!.toString();

    const res = await grantOverMtls({ certPem: svid.certChainPem, keyPem: svid.keyPem }, svid.bundlePem);

    expect(res.status).toBe(201);
    expect(decodeJwt(res.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(leafPem) });
    const introspected = await call(rb, 'POST', '/oauth2/introspect', {
      as: 'resource',
      form: { token: res.body.access_token },
    });
    expect(introspected.body).toMatchObject({
      active: true,
      client_id: svid.spiffeId,
      cnf: { 'x5t#S256': thumbprint(leafPem) },
    });
  });

  test('when a client certificate names our trust domain but comes from another CA, then it is 401', async () => {
    const svid = await x509Svid('agentA');
    const evil = await issueCert(await createCa('evil.test'), { uris: [stackInfo().actors.agentA.spiffeId] });
    const res = await grantOverMtls({ certPem: evil.certPem, keyPem: evil.keyPem }, svid.bundlePem);
    expect(res.status).toBe(401);
  });

  test('when SPIRE rotates the broker X509-SVID, then new connections get the new one with no restart', async () => {
    const svid = await x509Svid('agentA');
    const client = { certPem: svid.certChainPem, keyPem: svid.keyPem };
    const before = (await grantOverMtls(client, svid.bundlePem)).server;
    expect(before.subjectaltname).toBe(`URI:${stackInfo().brokerSpiffeId}`);
    // The broker's entry has a 30 s X509-SVID TTL; SPIRE's agent renews it at half-life.
    const rotated = await eventually(
      async () =>
        new X509Certificate(rb.broker.identity.serverSvid!.current().certPem).serialNumber !==
        before.serialNumber.toUpperCase(),
      45_000,
      500,
    );
    expect(rotated).toBe(true);
    const after = await grantOverMtls(client, svid.bundlePem);
    expect(after.status).toBe(201);
    expect(after.server.serialNumber).not.toBe(before.serialNumber);
    expect(after.server.subjectaltname).toBe(`URI:${stackInfo().brokerSpiffeId}`);
    expect(rb.logs.some((l) => l.includes('broker X509-SVID rotated'))).toBe(true);
  });
});
