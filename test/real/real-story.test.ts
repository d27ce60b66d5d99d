import pg from 'pg';
import { eventually } from '../helpers/broker';
import { openBaoApi } from './support/openbao-api';
import { call, closeWorkloadClients, jwtSvid, type RealBroker, startRealBroker } from './support/real-broker';
import { stackInfo } from './support/stack-info';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

async function login(rb: RealBroker, creds: { username: string; password: string }, port: number) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    database: rb.demoDatabase,
    user: creds.username,
    password: creds.password,
    connectionTimeoutMillis: 3000,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const dead = (c: pg.Client) =>
  c.query('select 1').then(
    () => false,
    () => true,
  );

describe('the whole story on SPIRE and OpenBao', () => {
  let rb: RealBroker;
  const ids = () => stackInfo().actors;

  beforeAll(async () => {
    rb = await startRealBroker();
  });
  afterAll(async () => {
    closeWorkloadClients();
    await rb?.stop();
  });

  test('when a task runs and closes, then every credential dies in the broker, in OpenBao and at PostgreSQL', async () => {
    expect(rb.broker.vault.openbao?.version).toMatch(/^\d+\.\d+\.\d+/);
    const opened = await call(rb, 'POST', '/v1/tasks', {
      as: 'orchestrator',
      body: {
        purpose: 'real stack story',
        agents: [ids().agentA.spiffeId, ids().agentB.spiffeId],
        scopes: ['db:demo:read', 'kv:demo/api-key', 'tool:demo:deploy'],
        ttl: '30m',
        limits: { max_grants: 20, max_active: 10, max_depth: 2, max_fanout: 3, budget: 30 },
        context: { task_type: 'analysis', data_sensitivity: 'medium', risk_score: 10 },
      },
    });
    expect(opened.status).toBe(201);
    const taskId = opened.body.id;
    const grant = (as: 'agentA' | 'agentB', scopes: string[]) =>
      call(rb, 'POST', `/v1/tasks/${taskId}/grants`, {
        as,
        body: { scopes, audience: 'orders-db', ttl: '10m', context: { tool: 'sql', intent: 'read orders' } },
      });

    // Dynamic PostgreSQL credentials minted by OpenBao's database engine, and they log in.
    const dbGrant = await grant('agentA', ['db:demo:read']);
    expect(dbGrant.status).toBe(201);
    const dbSecret = dbGrant.body.secrets[0];
    const port = Number(dbSecret.connection.port);
    const sessionA = await login(rb, dbSecret.data, port);
    expect((await sessionA.query('select count(*)::int as n from demo_orders')).rows[0].n).toBe(3);

    // KV v2 and a scoped OpenBao token (privileged: it needs an approval first).
    const kv = await grant('agentA', ['kv:demo/api-key']);
    expect(kv.status).toBe(201);
    expect(kv.body.secrets[0].data.api_key).toMatch(/^demo-/);
    expect((await grant('agentA', ['tool:demo:deploy'])).status).toBe(403);
    // Consent comes from an approver workload, never from the orchestrator that opened the task.
    const approval = await call(rb, 'POST', `/v1/tasks/${taskId}/approvals`, {
      as: 'approver',
      body: { scope: 'tool:demo:deploy', approver: 'alice@example.com', ttl: '10m' },
    });
    expect(approval.status).toBe(201);
    const tokenGrant = await grant('agentA', ['tool:demo:deploy']);
    expect(tokenGrant.status).toBe(201);
    const scopedToken = tokenGrant.body.secrets[0].data.token as string;
    const bao = openBaoApi(rb.bao);
    expect(await bao.tokenWorks(scopedToken)).toBe(true);

    // Delegation to agent b, redeemed with b's own SPIRE JWT-SVID as the actor token.
    const offer = await call(rb, 'POST', `/v1/grants/${dbGrant.body.grant_id}/delegations`, {
      as: 'agentA',
      body: {
        to: ids().agentB.spiffeId,
        scopes: ['db:demo:read'],
        ttl: '5m',
        budget: 2,
        may_redelegate: false,
      },
    });
    expect(offer.status).toBe(201);
    const redeemed = await call(rb, 'POST', '/oauth2/token', {
      as: 'agentB',
      form: {
        grant_type: EXCHANGE,
        subject_token: offer.body.delegation_token,
        subject_token_type: JWT,
        actor_token: await jwtSvid('agentB'),
        actor_token_type: JWT,
        audience: 'orders-db',
      },
    });
    expect(redeemed.status).toBe(200);
    const sessionB = await login(rb, redeemed.body.secrets[0].data, port);
    const introspected = await call(rb, 'POST', '/oauth2/introspect', {
      as: 'resource',
      form: { token: redeemed.body.access_token },
    });
    expect(introspected.body).toMatchObject({
      active: true,
      client_id: ids().agentB.spiffeId,
      act: { sub: ids().agentB.spiffeId, act: { sub: ids().agentA.spiffeId } },
    });

    // Close: every token inactive at once.
    const closed = await call(rb, 'POST', `/v1/tasks/${taskId}/close`, {
      as: 'orchestrator',
      body: { reason: 'done' },
    });
    expect(closed.status).toBe(200);
    for (const token of [dbGrant, kv, tokenGrant, redeemed].map((g) => g.body.access_token)) {
      const r = await call(rb, 'POST', '/oauth2/introspect', { as: 'resource', form: { token } });
      expect(r.body).toEqual({ active: false });
    }

    // The receipt completes; then OpenBao's own API knows none of the accessors or leases.
    expect(
      await eventually(
        async () =>
          (await call(rb, 'GET', `/v1/tasks/${taskId}/receipt`, { as: 'orchestrator' })).body.complete,
        30_000,
      ),
    ).toBe(true);
    const receipt = (await call(rb, 'GET', `/v1/tasks/${taskId}/receipt`, { as: 'auditor' })).body;
    const items = [
      receipt.task_token,
      ...receipt.grants.flatMap((g: { leases: unknown[] }) => g.leases),
    ] as Array<{
      lease_id: string | null;
      token_accessor: string | null;
      state: string;
    }>;
    expect(items.every((i) => i.state === 'revoked')).toBe(true);
    const accessors = items.map((i) => i.token_accessor).filter((a): a is string => Boolean(a));
    const leases = items.map((i) => i.lease_id).filter((l): l is string => Boolean(l));
    expect(accessors.length).toBeGreaterThanOrEqual(5);
    expect(leases.length).toBe(2);
    for (const a of accessors) expect(await bao.accessorExists(a)).toBe(false);
    for (const l of leases) expect(await bao.leaseExists(l)).toBe(false);
    expect(await bao.tokenWorks(scopedToken)).toBe(false);

    // PostgreSQL: both roles dropped, both open sessions terminated.
    const admin = new pg.Client({ connectionString: rb.db.url });
    await admin.connect();
    const roles = await admin.query('select rolname from pg_roles where rolname = any($1)', [
      [dbSecret.data.username, redeemed.body.secrets[0].data.username],
    ]);
    await admin.end();
    expect(roles.rows).toEqual([]);
    expect(await dead(sessionA)).toBe(true);
    expect(await dead(sessionB)).toBe(true);
    await Promise.all([sessionA.end(), sessionB.end()].map((p) => p.catch(() => undefined)));

    const verify = await call(rb, 'GET', '/v1/audit/verify', { as: 'auditor' });
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
  });
});
