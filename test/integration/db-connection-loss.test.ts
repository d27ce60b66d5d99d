import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../server/db/db.errors';
import { createDb, type DbHandle } from '../../server/db/pool';
import { toHttpError } from '../../server/http/error-mapper';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** Ends the backend `pid` from another session, as a fast shutdown or a failover does (57P01). */
async function terminate(url: string, pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

/**
 * PostgreSQL ending a session whose client the broker holds checked out (a transaction between two
 * statements) used to raise an 'error' event nothing listened to, killing the broker process. Now the
 * loss is reported, the statement that follows fails as an unavailable database (503), and the pool
 * opens a fresh connection for the next caller.
 */
describe('a pooled connection that PostgreSQL ends while it is checked out', () => {
  let database: TestDatabase;
  let handle: DbHandle;
  const lost: Error[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    handle = createDb(database.url, { max: 2, onConnectionError: (err) => lost.push(err) });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  test('when its backend is terminated mid-transaction, then the loss is reported, the transaction fails as 503 and the pool serves again', async () => {
    const failure = await handle.db
      .transaction()
      .execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        await terminate(database.url, rows[0]!.pid);
        await sleep(300); // the FATAL message and the socket's end reach the idle, checked-out client
        await sql`select 1`.execute(tx);
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const after = await sql<{ one: number }>`select 1 as one`.execute(handle.db);

    expect({
      reported: lost.map((e) => (e as { code?: string }).code ?? e.message),
      unavailable: isDatabaseUnavailable(failure),
      answer: toHttpError(failure).status,
      servesAgain: after.rows[0]?.one,
    }).toEqual({
      reported: expect.arrayContaining(['57P01']),
      unavailable: true,
      answer: 503,
      servesAgain: 1,
    });
  });
});
