import type { Command } from 'commander';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply (up), roll back one (down) or list (status) database migrations')
    .argument('[direction]', 'up | down | status', 'up')
    .action(async (direction: string) => {
      if (!['up', 'down', 'status'].includes(direction)) {
        throw new Error(`unknown direction "${direction}": use up, down or status`);
      }
      const { openDatabaseForCli } = await import('../open-database.js');
      const { migrateDown, migrateToLatest, migrationStatus } = await import('../../db/migrator.js');
      const database = await openDatabaseForCli();
      try {
        if (direction === 'status') {
          for (const m of await migrationStatus(database.db)) {
            console.log(
              `${m.executedAt ? m.executedAt.toISOString() : 'pending                 '}  ${m.name}`,
            );
          }
          return;
        }
        const result =
          direction === 'up' ? await migrateToLatest(database.db) : await migrateDown(database.db);
        const ran = result.results ?? [];
        if (ran.length === 0) console.log('nothing to do');
        for (const r of ran)
          console.log(`${r.direction === 'Up' ? 'applied ' : 'reverted'} ${r.migrationName}`);
      } finally {
        await database.shutdown();
      }
    });
}
