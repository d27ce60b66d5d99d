import pg from 'pg';
import { eventually, ORCHESTRATOR, startTestBroker, type TestBroker, tryLogin } from '../helpers/broker';
import { grantOk, openTask } from '../helpers/scenario';

/**
 * An agent that does anything its login allows must not keep it past close. With its own login it runs
 * ALTER DEFAULT PRIVILEGES (no privilege needed), which makes DROP ROLE fail: a revocation that ran its
 * lockout and its cleanup in one transaction rolled the lockout back with the failed cleanup, and the
 * password kept working after close and after the grant's own expiry.
 */
describe('close against a hostile database login', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(() => t?.stop());

  const superuser = async () => {
    const u = new URL(t.db.url);
    u.pathname = `/${t.demoDatabase}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    return c;
  };

  test('when the holder blocks DROP ROLE with ALTER DEFAULT PRIVILEGES, then close still takes its login and sessions within 3 s', async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['db:demo:read'], { ttl: '10m' });
    const creds = grant.secrets[0]!.data as { username: string; password: string };
    const session = await tryLogin(t, creds, 'alter default privileges grant select on tables to public');
    expect(session.ok).toBe(true);
    if (!session.ok) return;
    const closedAt = Date.now();
    const close = await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    expect(close.status).toBe(200);
    await eventually(async () => !(await tryLogin(t, creds)).ok, 3000);
    expect(Date.now() - closedAt).toBeLessThan(3000);
    // The open session is gone too, and the role can never log in again whatever its cleanup did.
    await expect(session.client.query('select 1')).rejects.toThrow();
    const admin = await superuser();
    try {
      const r = await admin.query('select rolcanlogin, rolvaliduntil from pg_roles where rolname = $1', [
        creds.username,
      ]);
      if (r.rowCount) expect(r.rows[0].rolcanlogin).toBe(false);
      const sessions = await admin.query(
        'select count(*)::int as n from pg_stat_activity where usename = $1',
        [creds.username],
      );
      expect(sessions.rows[0].n).toBe(0);
    } finally {
      await admin.end();
    }
    // The receipt proves it: the lease is revoked and verified, with the login it opened named.
    await eventually(async () => {
      const r = await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR });
      return r.body.complete === true;
    }, 10_000);
    const receipt = await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR });
    const lease = receipt.body.grants[0].leases.find((l: { kind: string }) => l.kind === 'lease');
    expect(lease).toMatchObject({ state: 'revoked', database_login: creds.username });
    expect(lease.verified_at).toEqual(expect.any(String));
  });

  test('when a database grant is minted, then the login’s VALID UNTIL does not outlive the grant', async () => {
    const taskId = await openTask(t);
    const before = Date.now();
    const grant = await grantOk(t, taskId, ['db:demo:read'], { ttl: 120 });
    const creds = grant.secrets[0]!.data as { username: string };
    const admin = await superuser();
    try {
      const r = await admin.query('select rolvaliduntil from pg_roles where rolname = $1', [creds.username]);
      const validUntil = new Date(r.rows[0].rolvaliduntil).getTime();
      expect(validUntil).toBeLessThanOrEqual(before + 120_000 + 2000);
      expect(grant.secrets[0]!.lease_duration).toBeLessThanOrEqual(120);
    } finally {
      await admin.end();
    }
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
  });
});

describe('the database a login reaches', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(() => t?.stop());

  test("when an agent's login tries the broker's own database, then it cannot even connect", async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['db:demo:read']);
    const creds = grant.secrets[0]!.data as { username: string; password: string };
    const u = new URL(t.db.url);
    const c = new pg.Client({
      host: u.hostname,
      port: Number(u.port || 5432),
      database: t.db.name,
      user: creds.username,
      password: creds.password,
    });
    c.on('error', () => undefined);
    await expect(c.connect()).rejects.toThrow(/permission denied for database/);
    await c.end().catch(() => undefined);
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
  });
});
