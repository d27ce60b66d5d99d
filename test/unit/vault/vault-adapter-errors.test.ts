import { createServer } from 'node:net';
import { createLogger } from '../../../server/shared/logger';
import {
  createVaultAdapter,
  type VaultAdapter,
  VaultBadResponse,
  VaultConfigInvalid,
  VaultDenied,
  VaultNotFound,
  VaultRequestError,
  VaultUnavailable,
} from '../../../server/vault';
import { envelope, type Reply, startFakeVault } from './fake-vault-http';

const BROKER = 'hvs.BROKERTOKEN';
const logger = createLogger({ level: 'silent' });

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('vault adapter: error classification', () => {
  let fake: Awaited<ReturnType<typeof startFakeVault>>;
  let vault: VaultAdapter;
  let reply: Reply;

  beforeEach(async () => {
    reply = { status: 200, body: envelope({}) };
    fake = await startFakeVault(() => reply);
    vault = createVaultAdapter(
      { addr: fake.url, token: BROKER, timeoutMs: 1500, retries: 2 },
      { logger, backoffBaseMs: 5 },
    );
  });
  afterEach(() => fake.close());

  it.each([
    [403, ['1 error occurred:\n\t* permission denied\n\n'], VaultDenied, 'upstream_error', 502],
    [404, [], VaultNotFound, 'upstream_error', 502],
    [400, ['unknown role: nope'], VaultRequestError, 'upstream_error', 502],
    [503, ['Vault is sealed'], VaultUnavailable, 'unavailable', 503],
    [500, ['internal error'], VaultUnavailable, 'unavailable', 503],
    [429, ['lease count quota exceeded'], VaultUnavailable, 'unavailable', 503],
  ])('when Vault answers %i, then the error is typed', async (status, errors, type, code, httpStatus) => {
    reply = { status, body: { errors } };
    const err = await vault.readDynamicSecret('hvs.GRANT', 'database/creds/r').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({
      code,
      status: httpStatus,
      details: { vaultStatus: status, op: 'readDynamicSecret' },
    });
  });

  it('when a dynamic secret comes back without a lease, then it is a bad response, not a secret', async () => {
    reply = { status: 200, body: envelope({ data: { username: 'u', password: 'p' } }) };
    await expect(vault.readDynamicSecret('hvs.GRANT', 'database/creds/r')).rejects.toBeInstanceOf(
      VaultBadResponse,
    );
  });

  it('when Vault answers 202 (async revoke), then it is not treated as success', async () => {
    reply = { status: 202 };
    await expect(vault.write('sys/leases/revoke', { lease_id: 'x' })).rejects.toBeInstanceOf(
      VaultBadResponse,
    );
  });

  it('when a lease or accessor does not exist, then lookups return null', async () => {
    reply = { status: 400, body: { errors: ['invalid lease'] } };
    await expect(vault.lookupLease('database/creds/r/abc')).resolves.toBeNull();
    reply = { status: 400, body: { errors: ['invalid accessor'] } };
    await expect(vault.lookupTokenByAccessor('nope')).resolves.toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('when a lease exists, then lookupLease maps its fields', async () => {
    const data = {
      id: 'database/creds/r/abc',
      expire_time: '2030-01-01T00:00:00Z',
      ttl: 30,
      renewable: true,
    };
    reply = { status: 200, body: envelope({ data: { ...data, issue_time: 'x', last_renewal: null } }) };
    await expect(vault.lookupLease('database/creds/r/abc')).resolves.toEqual({
      id: 'database/creds/r/abc',
      expireTime: '2030-01-01T00:00:00Z',
      ttl: 30,
      renewable: true,
    });
    expect(fake.requests[0]).toMatchObject({
      path: 'sys/leases/lookup',
      body: { lease_id: 'database/creds/r/abc' },
    });
  });

  it('when revoking something already gone, then revocation succeeds (idempotent)', async () => {
    reply = { status: 200, body: envelope({ warnings: ['No token found with this accessor'] }) };
    await vault.revokeTokenByAccessor('gone');
    reply = { status: 400, body: { errors: ['invalid accessor'] } };
    await vault.revokeTokenByAccessor('gone');
    reply = { status: 204 };
    await vault.revokeLease('database/creds/r/gone');
    expect(fake.requests.map((r) => r.path)).toEqual([
      'auth/token/revoke-accessor',
      'auth/token/revoke-accessor',
      'sys/leases/revoke',
    ]);
    expect(fake.requests[2]!.body).toEqual({ lease_id: 'database/creds/r/gone' });
  });

  it('when revoking by prefix, then the modern sys/leases path is used and whole mounts are refused', async () => {
    reply = { status: 204 };
    await vault.revokeLeasePrefix('database/creds/orders-read/');
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: 'sys/leases/revoke-prefix/database/creds/orders-read',
    });
    await expect(vault.revokeLeasePrefix('database')).rejects.toThrow(/two path segments/);
    await expect(vault.revokeLeasePrefix('')).rejects.toThrow(/two path segments/);
    expect(fake.requests).toHaveLength(1);
  });

  it('when an idempotent call meets an unavailable Vault, then it is retried with a bound', async () => {
    let n = 0;
    fake.setHandler(() => {
      n += 1;
      if (n < 3) return { status: 503, body: { errors: ['Vault is sealed'] } };
      return { status: 200, body: envelope({ data: { data: { k: 'v' }, metadata: {} } }) };
    });
    await expect(vault.readKv('hvs.T', 'secret/data/demo')).resolves.toEqual({ k: 'v' });
    expect(n).toBe(3);
    fake.setHandler(() => ({ status: 503, body: { errors: ['Vault is sealed'] } }));
    await expect(vault.lookupLease('database/creds/r/x')).rejects.toBeInstanceOf(VaultUnavailable);
    expect(fake.requests).toHaveLength(6);
  });

  it('when a non-idempotent call meets an unavailable Vault, then it is sent exactly once', async () => {
    reply = { status: 503, body: { errors: ['Vault is sealed'] } };
    await expect(
      vault.createOrphanToken({ policies: ['p'], ttlSeconds: 5, displayName: 't' }),
    ).rejects.toBeInstanceOf(VaultUnavailable);
    await expect(
      vault.createChildToken('hvs.P', { policies: ['p'], ttlSeconds: 5, displayName: 'g' }),
    ).rejects.toBeInstanceOf(VaultUnavailable);
    await expect(vault.readDynamicSecret('hvs.G', 'database/creds/r')).rejects.toBeInstanceOf(
      VaultUnavailable,
    );
    await expect(vault.write('sys/mounts/x', { type: 'kv' })).rejects.toBeInstanceOf(VaultUnavailable);
    expect(fake.requests).toHaveLength(4);
  });

  it('when Vault denies, then the call is not retried', async () => {
    reply = { status: 403, body: { errors: ['permission denied'] } };
    await expect(vault.readKv('hvs.T', 'secret/data/demo')).rejects.toBeInstanceOf(VaultDenied);
    expect(fake.requests).toHaveLength(1);
  });

  it('when Vault never answers, then the call fails as unavailable within its timeout', async () => {
    reply = 'hang';
    const v = createVaultAdapter({ addr: fake.url, token: BROKER, timeoutMs: 300 }, { logger });
    const started = Date.now();
    const err = await v
      .createOrphanToken({ policies: ['p'], ttlSeconds: 5, displayName: 't' })
      .catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as VaultUnavailable).details).toMatchObject({
      reason: expect.stringMatching(/ETIMEDOUT|ECONNABORTED/),
    });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 250);
  });

  it('when revoking a token tree takes longer than the usual timeout, then the revocation still waits for Vault', async () => {
    // OpenBao revokes a task token's children one by one inside the request: 10,000 grants take ~10 s.
    fake.setHandler(async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      return req.path.endsWith('revoke-accessor') ? { status: 204 } : { status: 200, body: envelope({}) };
    });
    const v = createVaultAdapter({ addr: fake.url, token: BROKER, timeoutMs: 200, retries: 0 }, { logger });
    await expect(v.revokeTokenByAccessor('acc-task')).resolves.toBeUndefined();
    const slowLookup = await v.lookupTokenByAccessor('acc-task').catch((e: unknown) => e);
    expect(slowLookup).toBeInstanceOf(VaultUnavailable);
  });

  it('when nothing listens at the address, then calls fail as unavailable quickly', async () => {
    const v = createVaultAdapter(
      { addr: await closedPortUrl(), token: BROKER, timeoutMs: 1000, retries: 1 },
      { logger },
    );
    const started = Date.now();
    const err = await v.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as VaultUnavailable).details).toMatchObject({ reason: 'ECONNREFUSED', op: 'health' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('when Vault is sealed, then health reports it instead of throwing', async () => {
    const body = { initialized: true, sealed: true, standby: true, version: '1.17.0', server_time_utc: 1 };
    reply = { status: 503, body };
    await expect(vault.health()).resolves.toEqual({
      initialized: true,
      sealed: true,
      standby: true,
      version: '1.17.0',
    });
  });

  it('when a proxy answers sys/health with a non-JSON page, then health is VaultUnavailable', async () => {
    reply = { status: 502, body: '<html>bad gateway</html>' };
    await expect(vault.health()).rejects.toBeInstanceOf(VaultUnavailable);
  });

  it.each([
    ['a non-URL address', { addr: 'vault:8200' }],
    ['a non-http scheme', { addr: 'ftp://127.0.0.1:8200' }],
    ['an empty token', { token: '' }],
    ['no timeout', { timeoutMs: 0 }],
    ['unbounded retries', { retries: 50 }],
    ['a TLS CA that is neither PEM nor a file', { tls: { ca: '/nonexistent/ca.pem' } }],
  ])('when the config has %s, then the adapter refuses to start', (_label, patch) => {
    const config = { addr: 'http://127.0.0.1:8200', token: BROKER, timeoutMs: 1000, ...patch };
    expect(() => createVaultAdapter(config, { logger })).toThrow(VaultConfigInvalid);
  });
});
