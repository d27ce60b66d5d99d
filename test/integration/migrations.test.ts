import { sql } from 'kysely';
import { migrations } from '../../migrations';
import { migrateDown, migrateToLatest, migrationStatus } from '../../server/db/migrator';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

async function tables(t: TestDatabase): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
    t.db,
  );
  return rows.rows.map((r) => r.table_name).filter((n) => !n.startsWith('grantline_migrations'));
}

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await t.drop();
  });

  test('when migrated up, down to nothing and up again, then the schema is whole each time', async () => {
    await migrateToLatest(t.db);
    const first = await tables(t);
    expect(first).toEqual(
      expect.arrayContaining([
        'tasks',
        'grants',
        'leases',
        'delegation_offers',
        'approvals',
        'revocation_jobs',
        'revocation_feed',
        'signing_keys',
        'audit_events',
        'audit_head',
      ]),
    );
    for (let i = 0; i < Object.keys(migrations).length; i++) await migrateDown(t.db);
    expect(await tables(t)).toEqual([]);
    await migrateToLatest(t.db);
    expect(await tables(t)).toEqual(first);
  });

  test('when status is asked, then every migration is listed as executed in date order', async () => {
    const status = await migrationStatus(t.db);
    expect(status.map((s) => s.name)).toEqual(Object.keys(migrations).sort());
    expect(status.every((s) => s.executedAt instanceof Date)).toBe(true);
  });
});
