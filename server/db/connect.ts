import path from 'node:path';
import type { Config } from '../config/config';
import type { Logger } from '../shared/logger';
import { type EmbeddedDb, startEmbeddedPostgres } from './embedded';
import { createDb, type DbHandle } from './pool';

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
    embedded = await startEmbeddedPostgres(path.join(config.home, 'pg'), logger);
    url = embedded.url;
    logger.info({ port: embedded.port }, 'embedded PostgreSQL started (set DATABASE_URL to use your own)');
  }
  const handle = createDb(url, { max: config.database.poolMax });
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
