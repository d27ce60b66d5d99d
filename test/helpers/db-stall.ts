import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { eventually } from './broker';
import type { TestDatabase } from './database';

/**
 * Makes the broker's own transactions pause at a chosen write, so a test can land a concurrent request
 * inside that transaction deterministically (lock-order races). A BEFORE ROW trigger sleeps while the
 * row lock the statement takes is already held (PostgreSQL locks the old row before BEFORE UPDATE
 * triggers run, and a BEFORE INSERT runs before the foreign-key checks).
 */
export async function stallWrites(
  db: TestDatabase,
  o: { table: string; event: 'INSERT' | 'UPDATE'; when: string; seconds: number },
): Promise<() => Promise<void>> {
  const name = `test_stall_${randomBytes(4).toString('hex')}`;
  await sql
    .raw(
      `create function ${name}() returns trigger language plpgsql as $$ begin perform pg_sleep(${o.seconds}); return new; end $$`,
    )
    .execute(db.db);
  await sql
    .raw(
      `create trigger ${name} before ${o.event} on ${o.table} for each row when (${o.when}) execute function ${name}()`,
    )
    .execute(db.db);
  return async () => {
    await sql.raw(`drop trigger if exists ${name} on ${o.table}`).execute(db.db);
    await sql.raw(`drop function if exists ${name}()`).execute(db.db);
  };
}

/** Waits until some session of this database sleeps in a stall trigger. */
export async function waitUntilStalled(db: TestDatabase, timeoutMs = 10_000): Promise<boolean> {
  return eventually(
    async () => {
      const r = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = ${db.name} and wait_event = 'PgSleep'`.execute(
        db.db,
      );
      return (r.rows[0]?.n ?? 0) > 0;
    },
    timeoutMs,
    10,
  );
}
