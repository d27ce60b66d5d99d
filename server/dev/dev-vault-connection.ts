import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { createVaultAdapter } from '../vault';
import type { VaultConnection } from '../wiring/vault-connection.types';
import { demoGroupRole, prepareDemoDatabase } from './postgres/demo-database';
import { startDevVault } from './vault';
import { configureDevVault } from './vault-setup';

/**
 * The dev Vault started in-process, its database engine pointed at the broker's PostgreSQL, the demo
 * database prepared and the shipped scopes configured.
 */
export async function connectDevVault(deps: {
  logger: Logger;
  clock: Clock;
  databaseUrl: string;
  demoDatabase: string;
}): Promise<VaultConnection> {
  const devVault = await startDevVault({
    port: 0,
    logger: deps.logger.child({ module: 'devvault' }),
    clock: deps.clock,
    databaseUrl: deps.databaseUrl,
  });
  deps.logger.warn(
    { url: devVault.url },
    'VAULT_ADDR is not set: running the in-process DEV Vault (in-memory, not for production)',
  );
  const vault = createVaultAdapter(
    { addr: devVault.url, token: devVault.rootToken, timeoutMs: 5000 },
    { logger: deps.logger },
  );
  const demoUrl = await prepareDemoDatabase(deps.databaseUrl, deps.demoDatabase, deps.logger);
  await configureDevVault(vault, {
    demoDatabaseUrl: demoUrl,
    groupRole: demoGroupRole(deps.demoDatabase),
    logger: deps.logger,
  });
  const u = new URL(demoUrl);
  return {
    vault,
    brokerToken: devVault.rootToken,
    connectionValues: {
      'dev_database.host': u.hostname,
      'dev_database.port': Number(u.port || 5432),
      'dev_database.name': deps.demoDatabase,
    },
    devVault,
    shutdown: () => devVault.close(),
  };
}
