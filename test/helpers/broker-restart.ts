import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../server/config/config';
import { demoGroupRole, prepareDemoDatabase } from '../../server/dev/postgres/demo-database';
import { type DevVault, startDevVault } from '../../server/dev/vault';
import { configureDevVault } from '../../server/dev/vault-setup';
import { startBroker } from '../../server/main';
import { createLogger } from '../../server/shared/logger';
import { createVaultAdapter, type VaultAdapter } from '../../server/vault';
import { callerFor, clientsFor, devSvids, type TestBroker } from './broker';
import { createTestDatabase, type TestDatabase, testServerUrl } from './database';
import { configDirWithScopes } from './scenario';

/**
 * State that outlives one broker process: a database, a home directory (dev trust domain and signing
 * key), and a dev Vault started outside any broker so its tokens and leases survive a broker restart.
 * Brokers reach it as an external Vault (`VAULT_ADDR` + `VAULT_TOKEN`), the way production runs.
 */
export interface DurableWorld {
  db: TestDatabase;
  home: string;
  demoDatabase: string;
  devVault: DevVault;
  vault: VaultAdapter;
  configDir: string;
  logs: string[];
  /** Starts a broker on this world; its `stop()` stops only that broker. */
  startBroker(): Promise<TestBroker>;
  /** Drops the database, the demo database, the config copy and the home, and closes the dev Vault. */
  close(): Promise<void>;
}

export async function createDurableWorld(): Promise<DurableWorld> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const db = await createTestDatabase({ migrate: false });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-home-'));
  const demoDatabase = `grantline_demo_${randomBytes(5).toString('hex')}`;
  const devVault = await startDevVault({ port: 0, logger, databaseUrl: testServerUrl() });
  const vault = createVaultAdapter(
    { addr: devVault.url, token: devVault.rootToken, timeoutMs: 5000 },
    { logger },
  );
  const demoUrl = await prepareDemoDatabase(testServerUrl(), demoDatabase, logger);
  await configureDevVault(vault, {
    demoDatabaseUrl: demoUrl,
    groupRole: demoGroupRole(demoDatabase),
    logger,
  });
  // With an external Vault the broker has no dev placeholders to fill: the scope names its database itself.
  const u = new URL(demoUrl);
  const configDir = configDirWithScopes({
    'db:demo:read': {
      cost: 1,
      sensitivity: 'medium',
      vault: { kind: 'dynamic', path: 'database/creds/demo-read' },
      policies: ['grantline-demo-read'],
      connection: { host: u.hostname, port: Number(u.port || 5432), database: demoDatabase },
    },
  });
  const env = {
    DATABASE_URL: db.url,
    GRANTLINE_HOME: home,
    GRANTLINE_PORT: '0',
    GRANTLINE_WORKER_INTERVAL_MS: '200',
    GRANTLINE_CONFIG_DIR: configDir,
    VAULT_ADDR: devVault.url,
    VAULT_TOKEN: devVault.rootToken,
  };

  const world: DurableWorld = {
    db,
    home,
    demoDatabase,
    devVault,
    vault,
    configDir,
    logs,
    async startBroker() {
      const broker = await startBroker(loadConfig(env), { logger, demoDatabase });
      const svid = devSvids(home);
      const clients = clientsFor(broker.url, home);
      return {
        broker,
        db,
        home,
        demoDatabase,
        logs,
        svid,
        client: clients.client,
        call: callerFor(broker.url, svid),
        stop: async () => {
          await clients.closeAll();
          await broker.stop();
        },
      };
    },
    async close() {
      await devVault.close();
      await db.drop();
      const admin = new pg.Client({ connectionString: testServerUrl() });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${demoDatabase} with (force)`);
        await admin.query(`drop role if exists ${demoGroupRole(demoDatabase)}`);
      } finally {
        await admin.end();
      }
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(configDir, { recursive: true, force: true });
    },
  };
  return world;
}

export { callerFor };
