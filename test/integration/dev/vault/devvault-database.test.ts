import type { DevVault } from '../../../../server/dev/vault';
import type { ManualClock } from '../../../../server/shared/clock';
import {
  call,
  canLogin,
  createScratchDatabase,
  createToken,
  dataOf,
  eventually,
  loginAndSelect,
  startManualVault,
  urlFor,
  writePolicy,
} from './devvault-harness';

const CREATION = [
  "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
  'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";',
];
const REVOCATION = [
  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';",
  'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}"; DROP ROLE IF EXISTS "{{name}}";',
];

describe('dev vault database engine on PostgreSQL', () => {
  let vault: DevVault;
  let clock: ManualClock;
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;
  const usernames: string[] = [];

  const issue = async (role: string, token?: string) => {
    const r = await call(vault, 'GET', `database/creds/${role}`, token ? { token } : {});
    if (r.status !== 200) throw new Error(`creds failed: ${r.status} ${r.text}`);
    const data = dataOf(r) as { username: string; password: string };
    usernames.push(data.username);
    return { ...data, leaseId: r.body!.lease_id as string, reply: r };
  };
  const lookupLease = (leaseId: string) =>
    call(vault, 'PUT', 'sys/leases/lookup', { body: { lease_id: leaseId } });

  beforeAll(async () => {
    db = await createScratchDatabase();
    ({ vault, clock } = await startManualVault({ revocationRetry: { attempts: 3, baseDelayMs: 1000 } }));
    const config = await call(vault, 'POST', 'database/config/scratch', {
      body: {
        plugin_name: 'postgresql-database-plugin',
        connection_url: urlFor(db.name, '{{username}}', '{{password}}')
          .replace(/%7B/g, '{')
          .replace(/%7D/g, '}'),
        username: new URL(urlFor(db.name)).username || 'postgres',
        password: decodeURIComponent(new URL(urlFor(db.name)).password),
        allowed_roles: ['readonly', 'other', 'broken', 'plain'],
      },
    });
    expect(config.status).toBe(204);
    const role = (name: string, extra: Record<string, unknown>) =>
      call(vault, 'POST', `database/roles/${name}`, {
        body: {
          db_name: 'scratch',
          creation_statements: CREATION,
          default_ttl: '1h',
          max_ttl: '2h',
          ...extra,
        },
      });
    expect((await role('readonly', { revocation_statements: REVOCATION })).status).toBe(204);
    expect((await role('other', { revocation_statements: REVOCATION })).status).toBe(204);
    expect((await role('plain', {})).status).toBe(204);
    expect((await role('broken', { revocation_statements: ['SELECT no_such_function()'] })).status).toBe(204);
    expect((await role('notallowed', {})).status).toBe(204);
  });

  afterAll(async () => {
    await vault.close();
    await db.drop(usernames);
  });

  it('when a role is read, then TTLs come back as integers', async () => {
    const r = await call(vault, 'GET', 'database/roles/readonly');
    expect(dataOf(r)).toMatchObject({
      db_name: 'scratch',
      default_ttl: 3600,
      max_ttl: 7200,
      credential_type: 'password',
    });
    expect((await call(vault, 'GET', 'database/roles/missing')).body).toEqual({ errors: [] });
    expect(dataOf(await call(vault, 'GET', 'database/roles?list=true')).keys).toContain('readonly');
  });

  it('when creds are minted, then they follow the template and log in and SELECT works', async () => {
    const creds = await issue('readonly');
    expect(creds.reply.body).toMatchObject({
      renewable: true,
      lease_duration: 3600,
      auth: null,
      warnings: null,
    });
    expect(creds.leaseId).toMatch(/^database\/creds\/readonly\/[A-Za-z0-9]{24}$/);
    expect(creds.username).toMatch(/^v-token-readonly-[A-Za-z0-9]{20}-\d{10}$/);
    expect(creds.password).toMatch(/^[A-Za-z0-9-]{20}$/);
    expect(await loginAndSelect(db.name, creds.username, creds.password)).toEqual([{ item: 'widget' }]);
  });

  it('when the parent of the calling token is revoked, then the DB role is dropped soon after', async () => {
    await writePolicy(vault, 'reader', {
      'database/creds/readonly': ['read'],
      'auth/token/create': ['update'],
    });
    const task = await createToken(vault, { policies: ['reader'], ttl: '1h' });
    const grant = await createToken(
      vault,
      { policies: ['reader'], ttl: '30m', display_name: 'broker' },
      task.token,
    );
    const creds = await issue('readonly', grant.token);
    expect(creds.username.startsWith('v-token-br-readonly-')).toBe(true);
    expect(await canLogin(db.name, creds.username, creds.password)).toBe(true);
    expect((await call(vault, 'POST', 'auth/token/revoke', { body: { token: task.token } })).status).toBe(
      204,
    );
    expect(await eventually(async () => !(await db.roleExists(creds.username)))).toBe(true);
    expect(await canLogin(db.name, creds.username, creds.password)).toBe(false);
    expect((await lookupLease(creds.leaseId)).body).toEqual({ errors: ['invalid lease'] });
  });

  it('when a lease expires on the clock, then tick() drops its role', async () => {
    await call(vault, 'POST', 'database/roles/short', {
      body: { db_name: 'scratch', creation_statements: CREATION, default_ttl: '30s', max_ttl: '1m' },
    });
    await call(vault, 'POST', 'database/config/scratch', {
      body: { allowed_roles: '*', verify_connection: false },
    });
    const creds = await issue('short');
    expect(await db.roleExists(creds.username)).toBe(true);
    clock.advance(31_000);
    await vault.tick();
    expect(await db.roleExists(creds.username)).toBe(false);
  });

  it('when a lease is renewed, then the TTL follows the spec math, capped at max_ttl with a warning', async () => {
    const creds = await issue('readonly');
    clock.advance(600_000);
    const renewed = await call(vault, 'PUT', 'sys/leases/renew', {
      body: { lease_id: creds.leaseId, increment: 1800 },
    });
    expect(renewed.body).toMatchObject({
      lease_id: creds.leaseId,
      renewable: true,
      lease_duration: 1800,
      data: null,
    });
    clock.advance(1500_000);
    const capped = await call(vault, 'PUT', `sys/leases/renew/${creds.leaseId}`, {
      body: { increment: 7200 },
    });
    expect(capped.body!.lease_duration).toBe(5100);
    expect(capped.body!.warnings).toEqual([
      'TTL of "2h" exceeded the effective max_ttl of "1h25m"; TTL value is capped accordingly',
    ]);
    clock.advance(5100_000);
    const past = await call(vault, 'PUT', 'sys/leases/renew', { body: { lease_id: creds.leaseId } });
    expect(past.body).toEqual({ errors: ['lease expired'] });
    await vault.tick();
    const gone = await call(vault, 'PUT', 'sys/leases/renew', { body: { lease_id: creds.leaseId } });
    expect(gone.body).toEqual({ errors: ['lease not found'] });
  });

  it('when a revocation keeps failing, then it retries with backoff, turns irrevocable, and revoke-force clears it', async () => {
    const creds = await issue('broken');
    const revoke = await call(vault, 'PUT', 'sys/leases/revoke', { body: { lease_id: creds.leaseId } });
    expect(revoke.status).toBe(400);
    expect(dataOf(await lookupLease(creds.leaseId))).toMatchObject({
      revoke_attempts: 1,
      irrevocable: false,
    });
    clock.advance(1999);
    await vault.tick();
    expect(dataOf(await lookupLease(creds.leaseId))).toMatchObject({ revoke_attempts: 1 });
    clock.advance(1);
    await vault.tick();
    clock.advance(4000);
    await vault.tick();
    const lookup = dataOf(await lookupLease(creds.leaseId));
    expect(lookup).toMatchObject({ revoke_attempts: 3, irrevocable: true, renewable: false });
    expect(lookup.revoke_error).toEqual(expect.stringContaining('no_such_function'));
    const renew = await call(vault, 'PUT', 'sys/leases/renew', { body: { lease_id: creds.leaseId } });
    expect(renew.body).toEqual({ errors: ['lease is expired and has failed previous revocation attempts'] });
    const force = await call(vault, 'PUT', `sys/leases/revoke-force/${creds.leaseId}`, { body: {} });
    expect(force.status).toBe(204);
    expect((await lookupLease(creds.leaseId)).body).toEqual({ errors: ['invalid lease'] });
  });

  it('when a role has no revocation statements, then the default revocation drops the role', async () => {
    const creds = await issue('plain');
    expect((await call(vault, 'PUT', `sys/leases/revoke/${creds.leaseId}`, { body: {} })).status).toBe(204);
    expect(await db.roleExists(creds.username)).toBe(false);
    expect(
      (await call(vault, 'PUT', 'sys/leases/revoke', { body: { lease_id: creds.leaseId } })).status,
    ).toBe(204);
  });

  it('when the role was deleted after issue, then revocation uses the statements captured with the lease', async () => {
    await call(vault, 'POST', 'database/roles/ephemeral', {
      body: {
        db_name: 'scratch',
        creation_statements: CREATION,
        revocation_statements: REVOCATION,
        default_ttl: 60,
      },
    });
    await call(vault, 'POST', 'database/config/scratch', {
      body: { allowed_roles: '*', verify_connection: false },
    });
    const creds = await issue('ephemeral');
    expect((await call(vault, 'DELETE', 'database/roles/ephemeral')).status).toBe(204);
    const renew = await call(vault, 'PUT', 'sys/leases/renew', { body: { lease_id: creds.leaseId } });
    expect(renew.body).toEqual({
      errors: ['failed to renew entry: could not find role with name "ephemeral"'],
    });
    expect(
      (await call(vault, 'PUT', 'sys/leases/revoke', { body: { lease_id: creds.leaseId } })).status,
    ).toBe(204);
    expect(await db.roleExists(creds.username)).toBe(false);
  });

  it('when revoke-prefix names a role path, then only that role’s leases go', async () => {
    const a = await issue('readonly');
    const b = await issue('other');
    expect(
      (await call(vault, 'PUT', 'sys/leases/revoke-prefix/database/creds/readonly', { body: {} })).status,
    ).toBe(204);
    expect(await db.roleExists(a.username)).toBe(false);
    expect(await db.roleExists(b.username)).toBe(true);
  });

  it('when two roles have separate policies, then each token reads only its own creds path', async () => {
    await writePolicy(vault, 'only-other', { 'database/creds/other': ['read'] });
    const t = await createToken(vault, { policies: ['only-other'], ttl: '1h' });
    const denied = await call(vault, 'GET', 'database/creds/readonly', { token: t.token });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    const allowed = await call(vault, 'GET', 'database/creds/other', { token: t.token });
    expect(allowed.status).toBe(200);
    usernames.push((dataOf(allowed) as { username: string }).username);
  });

  it('when the server is stopped and started, then its leases and pools come back', async () => {
    const creds = await issue('readonly');
    await vault.stop();
    await vault.start();
    expect(dataOf(await lookupLease(creds.leaseId)).id).toBe(creds.leaseId);
    expect(
      (await call(vault, 'PUT', 'sys/leases/revoke', { body: { lease_id: creds.leaseId } })).status,
    ).toBe(204);
    expect(await db.roleExists(creds.username)).toBe(false);
  });

  it('when a role is unknown or not allowed, then 400 and 500 as Vault answers', async () => {
    await call(vault, 'POST', 'database/config/scratch', {
      body: { allowed_roles: 'readonly', verify_connection: false },
    });
    expect((await call(vault, 'GET', 'database/creds/nope')).body).toEqual({
      errors: ['unknown role: nope'],
    });
    const r = await call(vault, 'GET', 'database/creds/notallowed');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ errors: ['1 error occurred:\n\t* "notallowed" is not an allowed role\n\n'] });
  });
});
