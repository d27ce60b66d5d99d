import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { initDevTrustDomain } from '../../../server/dev/identity/dev-trust-domain';
import { demoGroupRole, prepareDemoDatabase } from '../../../server/dev/postgres/demo-database';
import { configureDevVault } from '../../../server/dev/vault-setup';
import { createLogger } from '../../../server/shared/logger';
import { createVaultAdapter, type VaultAdapter } from '../../../server/vault';
import { devSvids } from '../../helpers/broker';
import { createTestDatabase, type TestDatabase, testServerUrl } from '../../helpers/database';
import { configDirWithScopes } from '../../helpers/scenario';
import { type BrokerProcess, startBrokerProcess } from './broker-process';
import { freePort } from './processes';
import type { BackendChoice, VaultBackend } from './vault-backends';
import { startVaultProxy, type VaultProxy } from './vault-proxy';

export const DB_SCOPE = 'db:demo:read';
export const KV_SCOPE = 'kv:demo/api-key';
/** Every broker of a world signs with the same key and issuer, so any of them verifies the others' tokens. */
const ISSUER = 'http://grantline-faults.localhost';

/**
 * What outlives any one broker: the broker database, the demo database agents' logins live in, a
 * GRANTLINE_HOME (the dev trust domain and signing key), and a Vault run as its own process behind a
 * proxy the test can cut. Brokers are started as processes on it, reaching Vault as an external one.
 */
export interface FaultWorld {
  backend: VaultBackend;
  proxy: VaultProxy;
  /** The test's own client to Vault (straight, not through the proxy): to ask what is alive. */
  vault: VaultAdapter;
  db: TestDatabase;
  demoDatabase: string;
  demoUrl: string;
  home: string;
  logDir: string;
  svid: (spiffeId: string) => Promise<string>;
  /** Token accessors Vault had before any broker ran (its root token): everything else is Grantline's. */
  baselineAccessors: Set<string>;
  startBroker(name: string, extraEnv?: Record<string, string>): Promise<BrokerProcess>;
  close(): Promise<void>;
}

async function configureVault(backend: VaultBackend, demoUrl: string, demoDatabase: string) {
  const logger = createLogger({ level: 'silent' });
  const vault = createVaultAdapter(
    { addr: backend.url, token: backend.rootToken, timeoutMs: 10_000 },
    { logger },
  );
  if (backend.mountsDatabase) await vault.write('sys/mounts/database', { type: 'database' });
  await configureDevVault(vault, {
    demoDatabaseUrl: demoUrl,
    groupRole: demoGroupRole(demoDatabase),
    logger,
  });
  return vault;
}

/** Drops the demo database and every login Vault made in it (members of its group role), then the group. */
async function dropDemo(serverUrl: string, demoDatabase: string) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${demoDatabase} with (force)`);
    const members = await admin.query<{ rolname: string }>(
      `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
        join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
      [demoGroupRole(demoDatabase)],
    );
    for (const { rolname } of members.rows)
      await admin.query(`drop role if exists ${pg.escapeIdentifier(rolname)}`);
    await admin.query(`drop role if exists ${demoGroupRole(demoDatabase)}`);
  } finally {
    await admin.end();
  }
}

export async function createFaultWorld(
  choice: BackendChoice,
  opts: { brokerDatabase?: TestDatabase } = {},
): Promise<FaultWorld> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `grantline-faults-${choice.name}-`));
  const home = path.join(logDir, 'home');
  fs.mkdirSync(home);
  await initDevTrustDomain(home);
  const backend = await choice.start(path.join(logDir, 'vault.log'));
  const db = opts.brokerDatabase ?? (await createTestDatabase({ migrate: false }));
  const demoDatabase = `grantline_demo_${randomBytes(5).toString('hex')}`;
  const demoUrl = await prepareDemoDatabase(testServerUrl(), demoDatabase, createLogger({ level: 'silent' }));
  const vault = await configureVault(backend, demoUrl, demoDatabase);
  const baselineAccessors = new Set(await vault.listTokenAccessors());
  const proxy = await startVaultProxy(backend.url);
  const u = new URL(demoUrl);
  const configDir = configDirWithScopes({
    [DB_SCOPE]: {
      cost: 1,
      sensitivity: 'medium',
      vault: { kind: 'dynamic', path: 'database/creds/demo-read', database_target: 'demo' },
      audiences: ['orders-db'],
      policies: ['grantline-demo-read'],
      connection: { host: u.hostname, port: Number(u.port || 5432), database: demoDatabase },
    },
  });
  const env = (extra: Record<string, string>) => ({
    DATABASE_URL: db.url,
    GRANTLINE_HOME: home,
    GRANTLINE_CONFIG_DIR: configDir,
    GRANTLINE_ISSUER: ISSUER,
    GRANTLINE_DB_TARGETS: JSON.stringify({ demo: demoUrl }),
    GRANTLINE_LOG_LEVEL: 'info',
    VAULT_ADDR: proxy.url,
    VAULT_TOKEN: backend.rootToken,
    ...extra,
  });
  const running = new Set<BrokerProcess>();
  const svid = devSvids(home);
  return {
    backend,
    proxy,
    vault,
    db,
    demoDatabase,
    demoUrl,
    home,
    logDir,
    svid,
    baselineAccessors,
    async startBroker(name, extraEnv = {}) {
      const logFile = path.join(logDir, `${name}.log`);
      const start = async () => {
        const ports = {
          GRANTLINE_PORT: String(await freePort()),
          GRANTLINE_OPERATOR_PORT: String(await freePort()),
        };
        return startBrokerProcess({ name, env: env({ ...ports, ...extraEnv }), logFile, svid });
      };
      // A port free a moment ago can be taken as the local port of some outgoing connection before the
      // broker binds it (the kernel hands out the same ephemeral range): try again on fresh ports.
      let broker: BrokerProcess | undefined;
      for (let attempt = 1; !broker; attempt++) {
        const logged = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
        try {
          broker = await start();
        } catch (err) {
          const log = fs.existsSync(logFile)
            ? fs.readFileSync(logFile).subarray(logged).toString('utf8')
            : '';
          if (attempt >= 3 || !log.includes('EADDRINUSE')) throw err;
        }
      }
      running.add(broker);
      void broker.child.exited.then(() => running.delete(broker));
      return broker;
    },
    async close() {
      await Promise.all([...running].map((b) => b.kill()));
      await proxy.close();
      await backend.stop();
      if (!opts.brokerDatabase) await db.drop();
      await dropDemo(testServerUrl(), demoDatabase);
      fs.rmSync(configDir, { recursive: true, force: true });
      if (process.env.FAULTS_KEEP_LOGS) process.stderr.write(`faults: logs kept in ${logDir}\n`);
      else fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}
