import { InvalidRequest } from '../../../server/shared/errors';
import { createLogger } from '../../../server/shared/logger';
import { createVaultAdapter, type VaultAdapter } from '../../../server/vault';
import { authReply, envelope, type Recorded, startFakeVault } from './fake-vault-http';

const BROKER = 'hvs.BROKERTOKEN';
const logger = createLogger({ level: 'silent' });

describe('vault adapter: tokens', () => {
  let fake: Awaited<ReturnType<typeof startFakeVault>>;
  let vault: VaultAdapter;

  const route = (req: Recorded) => {
    if (req.path === 'auth/token/create-orphan') return { status: 200, body: authReply(true) };
    if (req.path === 'auth/token/create') return { status: 200, body: authReply(false) };
    if (req.path === 'auth/token/lookup-accessor') {
      const accessor = (req.body as { accessor: string }).accessor;
      const data = { accessor, policies: ['p1'], ttl: 30, expire_time: null, orphan: false, meta: null };
      return { status: 200, body: envelope({ data }) };
    }
    return { status: 404, body: { errors: [] } };
  };

  beforeEach(async () => {
    fake = await startFakeVault(route);
    vault = createVaultAdapter({ addr: fake.url, token: BROKER, timeoutMs: 2000 }, { logger });
  });
  afterEach(() => fake.close());

  it('when creating an orphan token, then it posts to create-orphan with the broker token and a string ttl', async () => {
    const minted = await vault.createOrphanToken({
      policies: ['p1'],
      ttlSeconds: 600,
      displayName: 'task-1',
      meta: { task_id: 't1' },
    });
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('auth/token/create-orphan');
    expect(req.headers['x-vault-token']).toBe(BROKER);
    expect(req.body).toEqual({
      policies: ['p1'],
      ttl: '600s',
      display_name: 'task-1',
      renewable: true,
      meta: { task_id: 't1' },
    });
    expect(minted).toMatchObject({
      policies: ['default', 'p1'],
      leaseDuration: 60,
      renewable: true,
      orphan: true,
    });
    expect(minted.clientToken).toMatch(/^hvs\./);
  });

  it('when creating a child token, then the request acts as the parent, with explicit_max_ttl as a string', async () => {
    const minted = await vault.createChildToken('hvs.PARENT', {
      policies: ['p1'],
      ttlSeconds: 60,
      displayName: 'grant-1',
      explicitMaxTtlSeconds: 120,
    });
    const req = fake.requests[0]!;
    expect(req.path).toBe('auth/token/create');
    expect(req.headers['x-vault-token']).toBe('hvs.PARENT');
    expect(req.body).toEqual({
      policies: ['p1'],
      ttl: '60s',
      display_name: 'grant-1',
      explicit_max_ttl: '120s',
    });
    expect(minted.orphan).toBe(false);
  });

  it('when many child tokens are created concurrently with broker lookups, then no call ever uses another token', async () => {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 25; i++) {
      work.push(
        vault.createChildToken(`hvs.PARENT${i}`, { policies: ['p1'], ttlSeconds: 60, displayName: `g${i}` }),
      );
      work.push(vault.lookupTokenByAccessor(`acc${i}`));
      work.push(vault.createOrphanToken({ policies: ['p1'], ttlSeconds: 60, displayName: `t${i}` }));
    }
    await Promise.all(work);
    await vault.lookupTokenByAccessor('after');
    expect(fake.requests).toHaveLength(76);
    for (const req of fake.requests) {
      const expected =
        req.path === 'auth/token/create'
          ? `hvs.PARENT${(req.body as { display_name: string }).display_name.slice(1)}`
          : BROKER;
      expect(req.headers['x-vault-token']).toBe(expected);
    }
  });

  it('when VAULT_TOKEN is set in the environment and a call has an empty token, then nothing is sent', async () => {
    const saved = process.env.VAULT_TOKEN;
    process.env.VAULT_TOKEN = 'hvs.AMBIENT';
    try {
      const v = createVaultAdapter({ addr: fake.url, token: BROKER, timeoutMs: 2000 }, { logger });
      await expect(v.readDynamicSecret('', 'database/creds/r')).rejects.toBeInstanceOf(InvalidRequest);
      await expect(
        v.createChildToken('', { policies: ['p'], ttlSeconds: 5, displayName: 'x' }),
      ).rejects.toBeInstanceOf(InvalidRequest);
      await v.health().catch(() => undefined);
      expect(fake.requests.map((r) => r.path)).toEqual(['sys/health']);
      expect(fake.requests[0]!.headers['x-vault-token']).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.VAULT_TOKEN;
      else process.env.VAULT_TOKEN = saved;
    }
  });

  it.each([
    ['no policies', { policies: [], ttlSeconds: 60, displayName: 'x' }],
    ['the root policy', { policies: ['root'], ttlSeconds: 60, displayName: 'x' }],
    ['a zero ttl', { policies: ['p'], ttlSeconds: 0, displayName: 'x' }],
    ['a fractional ttl', { policies: ['p'], ttlSeconds: 1.5, displayName: 'x' }],
    ['a display name with spaces', { policies: ['p'], ttlSeconds: 60, displayName: 'a b' }],
  ])(
    'when asked for an orphan token with %s, then it is refused before any request',
    async (_label, input) => {
      await expect(vault.createOrphanToken(input)).rejects.toBeInstanceOf(InvalidRequest);
      expect(fake.requests).toHaveLength(0);
    },
  );

  it('when a namespace is configured, then every request carries X-Vault-Namespace', async () => {
    const v = createVaultAdapter(
      { addr: fake.url, token: BROKER, timeoutMs: 2000, namespace: 'team-a/' },
      { logger },
    );
    await v.createOrphanToken({ policies: ['p1'], ttlSeconds: 60, displayName: 't' });
    await v.lookupTokenByAccessor('a1');
    expect(fake.requests.map((r) => r.headers['x-vault-namespace'])).toEqual(['team-a/', 'team-a/']);
  });

  it('when looking up a token by accessor, then the fields are mapped and the broker token is used', async () => {
    const info = await vault.lookupTokenByAccessor('acc-9');
    expect(info).toEqual({
      accessor: 'acc-9',
      policies: ['p1'],
      ttl: 30,
      expireTime: null,
      orphan: false,
      meta: null,
    });
    expect(fake.requests[0]!.body).toEqual({ accessor: 'acc-9' });
  });
});
