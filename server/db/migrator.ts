import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from '../../migrations';

/**
 * The migrations are listed statically in `migrations/index.ts` (not discovered with dynamic import),
 * so the same code runs from TypeScript under jest and from `dist/` in production.
 */
export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'grantline_migrations',
    migrationLockTableName: 'grantline_migrations_lock',
  });
}

function unwrap(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const err = result.error instanceof Error ? result.error : new Error(String(result.error));
    if (failed) err.message = `migration ${failed.migrationName} failed: ${err.message}`;
    throw err;
  }
  return result;
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  return unwrap(await createMigrator(db).migrateToLatest());
}

export async function migrateDown(db: Kysely<any>): Promise<MigrationResultSet> {
  return unwrap(await createMigrator(db).migrateDown());
}

export async function migrationStatus(db: Kysely<any>) {
  return (await createMigrator(db).getMigrations()).map((m) => ({
    name: m.name,
    executedAt: m.executedAt ?? null,
  }));
}
