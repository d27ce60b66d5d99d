import { Writable } from 'node:stream';
import { createLogger } from '../../../server/shared/logger';
import { createVaultAdapter, VaultDenied, VaultUnavailable } from '../../../server/vault';
import { authReply, envelope, type Recorded, startFakeVault } from './fake-vault-http';

const BROKER = 'hvs.BROKERSECRET';
const PARENT = 'hvs.PARENTSECRET';
const PASSWORD = 'Pa55-word-SECRET';

function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace' }, sink), lines };
}

const route = (req: Recorded) => {
  switch (req.path) {
    case 'auth/token/create-orphan':
      return { status: 200, body: authReply(true) };
    case 'auth/token/create':
      return {
        status: 200,
        body: { ...authReply(false), warnings: ['TTL of "1h" exceeded the effective max_ttl'] },
      };
    case 'database/creds/r': {
      const data = { username: 'v-token-r-abc', password: PASSWORD };
      return {
        status: 200,
        body: envelope({ lease_id: 'database/creds/r/L1', lease_duration: 60, renewable: true, data }),
      };
    }
    case 'secret/data/demo':
      return { status: 200, body: envelope({ data: { data: { api_key: PASSWORD }, metadata: {} } }) };
    default:
      return { status: 403, body: { errors: ['permission denied'] } };
  }
};

describe('vault adapter: logging', () => {
  it('when tokens are minted, secrets read and calls fail, then no token or secret value reaches the log', async () => {
    const fake = await startFakeVault(route);
    const { logger, lines } = captureLogger();
    const vault = createVaultAdapter(
      { addr: fake.url, token: BROKER, timeoutMs: 1000, retries: 0 },
      { logger },
    );
    const minted: string[] = [];
    try {
      minted.push(
        (await vault.createOrphanToken({ policies: ['p'], ttlSeconds: 60, displayName: 't' })).clientToken,
      );
      minted.push(
        (await vault.createChildToken(PARENT, { policies: ['p'], ttlSeconds: 60, displayName: 'g' }))
          .clientToken,
      );
      const secret = await vault.readDynamicSecret(PARENT, 'database/creds/r');
      expect(secret.data.password).toBe(PASSWORD);
      await vault.readKv(PARENT, 'secret/data/demo');
      const denied = await vault.write('database/config/db', { password: PASSWORD }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(VaultDenied);
      logger.error({ err: denied }, 'caller logs the typed error');
    } finally {
      await fake.close();
    }
    // A network failure: the raw axios error holds the request headers, the typed one must not.
    const down = await vault.readKv(PARENT, 'secret/data/demo').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(VaultUnavailable);
    logger.error({ err: down }, 'caller logs the network error');

    const out = lines.join('');
    expect(out).toContain('database/creds/r/L1');
    expect(out).toContain('accessor');
    expect(out).toContain('exceeded the effective max_ttl');
    for (const secretValue of [BROKER, PARENT, PASSWORD, ...minted]) {
      expect(out).not.toContain(secretValue);
    }
  });
});
