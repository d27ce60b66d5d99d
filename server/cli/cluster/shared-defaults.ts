import path from 'node:path';
import type { Config } from '../../config/config';
import { migrateToLatest } from '../../db/migrator';
import { createDb } from '../../db/pool';
import { systemClock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import {
  loadDevSigningKey,
  startDevDatabase,
  startDevTrustDomain,
  startLocalVault,
} from '../../wiring/dev-defaults';
import type { SharedDefaults } from './messages';

export interface StartedDefaults {
  shared: SharedDefaults;
  /** Stops what was started (the local Vault, then PostgreSQL), after every worker has stopped. */
  stop(): Promise<void>;
}

/** Migrates once, before any worker starts, so N workers do not all queue on the migration lock. */
async function migrate(url: string): Promise<void> {
  const handle = createDb(url, { max: 1, applicationName: 'grantline-migrate' });
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
}

/**
 * What must exist once for all workers, started by the primary: the embedded PostgreSQL and the local
 * Vault when they are not configured (one each: N of them would be N separate worlds), the dev trust
 * domain and the dev signing key (created here so workers only read them). Production configures all
 * of these and this starts nothing but the migration.
 */
export async function startSharedDefaults(config: Config, logger: Logger): Promise<StartedDefaults> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => logger.warn({ err }, 'stopping failed'));
  };
  try {
    const shared: SharedDefaults = {};
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const embedded = await startDevDatabase(path.join(config.home, 'pg'), logger);
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
      shared.databaseUrl = databaseUrl;
    }
    await migrate(databaseUrl);
    if (!config.vault) {
      const vault = await startLocalVault(config.localVault, {
        logger,
        clock: systemClock,
        databaseUrl,
        demoDatabase: 'grantline_demo',
      });
      stops.push(() => vault.shutdown());
      const addr = vault.openbao?.url ?? vault.devVault?.url;
      if (!addr) throw new Error('the local Vault did not say where it listens');
      shared.vault = { addr, token: vault.brokerToken };
      shared.connectionValues = vault.connectionValues;
      if (vault.databaseTargets) shared.databaseTargets = vault.databaseTargets;
    }
    if (config.identity.source === 'dev') await startDevTrustDomain(config.home, systemClock, logger);
    if (!config.tokens.signingKeyFile) await loadDevSigningKey(config.home, { logger, clock: systemClock });
    return { shared, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
