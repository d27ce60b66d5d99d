import path from 'node:path';
import type { Config } from '../config/config';
import { createDb, type DbHandle } from '../db/pool';
import type { EmbeddedDb } from '../dev/postgres/embedded';
import type { Logger } from '../shared/logger';
import { startDevDatabase } from './dev-defaults';

export interface DatabaseConnection extends DbHandle {
  /** The URL the broker uses (for the dev Vault's database engine in embedded mode). */
  url: string;
  embedded: EmbeddedDb | undefined;
  /** Closes the pool, then stops the embedded server if we started one. */
  shutdown(): Promise<void>;
}

/** `DATABASE_URL`, or the embedded PostgreSQL under `<home>/pg` when it is unset. */
export async function connectDatabase(config: Config, logger: Logger): Promise<DatabaseConnection> {
  let embedded: EmbeddedDb | undefined;
  let url = config.database.url;
  if (!url) {
    const started = await startDevDatabase(path.join(config.home, 'pg'), logger);
    embedded = started;
    url = started.url;
    logger.info({ port: started.port }, 'embedded PostgreSQL started (set DATABASE_URL to use your own)');
  }
  const handle = createDb(url, {
    max: config.database.poolMax,
    onConnectionError: (err) =>
      logger.warn({ err: err.message, code: (err as { code?: string }).code }, 'database connection lost'),
  });
  return {
    ...handle,
    url,
    embedded,
    async shutdown() {
      await handle.close();
      await embedded?.stop();
    },
  };
}
