import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { reportClientErrors } from './client-errors';
import type { Database } from './database';

// bigint (int8) columns come back as strings by default; our sequences fit in JS numbers for years,
// but keep them as strings at the edges (audit seq) and let callers convert where arithmetic is needed.

export interface DbHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDb(
  connectionString: string,
  opts: {
    max?: number;
    applicationName?: string;
    /** Told when a connection is lost (PostgreSQL restarted, the network cut it): for the log. */
    onConnectionError?: (err: Error) => void;
  } = {},
): DbHandle {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'grantline',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // A pooled client that errors, idle or checked out (server restart), must not crash the process.
  reportClientErrors(pool, opts.onConnectionError ?? (() => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

export async function pingDb(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
}
