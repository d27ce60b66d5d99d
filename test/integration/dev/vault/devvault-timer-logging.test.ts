import { Writable } from 'node:stream';
import { type DevVault, startDevVault } from '../../../../server/dev/vault';
import { createLogger } from '../../../../server/shared/logger';
import { call, createScratchDatabase, createToken, dataOf, eventually, urlFor } from './devvault-harness';

const CREATION = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`];

describe('dev vault on the system clock', () => {
  let vault: DevVault;
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;
  const lines: string[] = [];
  const usernames: string[] = [];

  beforeAll(async () => {
    db = await createScratchDatabase();
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    vault = await startDevVault({
      port: 0,
      logger: createLogger({ level: 'debug' }, sink),
      expiryIntervalMs: 100,
    });
    await call(vault, 'POST', 'database/config/scratch', {
      body: {
        plugin_name: 'postgresql-database-plugin',
        connection_url: urlFor(db.name),
        allowed_roles: '*',
      },
    });
    await call(vault, 'POST', 'database/roles/blink', {
      body: { db_name: 'scratch', creation_statements: CREATION, default_ttl: '1s', max_ttl: '2s' },
    });
  });

  afterAll(async () => {
    await vault.close();
    await db.drop(usernames);
  });

  it('when a lease runs out in real time, then the expiry timer drops its role without tick()', async () => {
    const r = await call(vault, 'GET', 'database/creds/blink');
    const { username } = dataOf(r) as { username: string };
    usernames.push(username);
    expect(r.body!.lease_duration).toBe(1);
    expect(await db.roleExists(username)).toBe(true);
    expect(await eventually(async () => !(await db.roleExists(username)), 4000)).toBe(true);
  });

  it('when tokens and credentials pass through, then no token or password value reaches the log', async () => {
    const { token } = await createToken(vault, { ttl: '1h', policies: ['default'] });
    const creds = await call(vault, 'GET', 'database/creds/blink', { token: vault.rootToken });
    const { username, password } = dataOf(creds) as { username: string; password: string };
    usernames.push(username);
    await call(vault, 'GET', 'auth/token/lookup-self', { token });
    await call(vault, 'POST', 'auth/token/revoke', { body: { token } });
    await call(vault, 'GET', 'auth/token/lookup-self', { token: 'hvs.not-a-real-token' });
    const log = lines.join('');
    expect(log).toContain(creds.body!.lease_id as string);
    for (const secret of [vault.rootToken, token, password, 'hvs.not-a-real-token'])
      expect(log).not.toContain(secret);
  });
});
