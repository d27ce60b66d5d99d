import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { VaultAdapter } from '../vault';
import { demoGroupRole, prepareDemoDatabase } from './postgres/demo-database';
import { configureDevVault } from './vault-setup';

export type LocalDeps = { logger: Logger; clock: Clock; databaseUrl: string; demoDatabase: string };

/**
 * The dev scopes' set-up on a local Vault (dev Vault or OpenBao dev): the demo database, its role and
 * policies, the KV data, and the facts scopes fill into their connection placeholders.
 */
export async function configureLocalVault(
  vault: VaultAdapter,
  deps: LocalDeps,
): Promise<{ connectionValues: Record<string, string | number>; databaseTargets: Record<string, string> }> {
  const demoUrl = await prepareDemoDatabase(deps.databaseUrl, deps.demoDatabase, deps.logger);
  await configureDevVault(vault, {
    demoDatabaseUrl: demoUrl,
    groupRole: demoGroupRole(deps.demoDatabase),
    logger: deps.logger,
  });
  const u = new URL(demoUrl);
  return {
    connectionValues: {
      'dev_database.host': u.hostname,
      'dev_database.port': Number(u.port || 5432),
      'dev_database.name': deps.demoDatabase,
    },
    // The demo database is on the broker's own server: its (superuser) URL is the lockout connection.
    databaseTargets: { demo: demoUrl },
  };
}
