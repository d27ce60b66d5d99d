import type pg from 'pg';

/**
 * pg-pool listens for a client's `error` only while the client sits idle in the pool. Once checked out
 * (a Kysely transaction between two statements, a client held across an await) nothing does, and when
 * PostgreSQL ends the session — a fast shutdown sends 57P01 to every backend, a restart or failover cuts
 * the socket — the client emits an `error` that no one handles, which kills the whole process. So every
 * client the pool creates gets a listener for its whole life: the loss is reported, the client's next
 * query fails ("not queryable", mapped to 503 like any unavailable database) and pg-pool discards it on
 * release, opening a fresh connection for the next caller once PostgreSQL is back.
 */
export function reportClientErrors(pool: pg.Pool, onError: (err: Error) => void): pg.Pool {
  pool.on('connect', (client) => client.on('error', onError));
  // An idle client's error reaches the pool as well: it has been reported by the listener above.
  pool.on('error', () => undefined);
  return pool;
}
