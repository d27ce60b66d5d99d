import { type Kysely, sql } from 'kysely';

// Issue 11: a task declares the audiences its tokens may carry and the workloads (exact SPIFFE IDs, or
// `spiffe://<own trust domain>/<path>/*` patterns) its grants may be delegated to besides its agents;
// a grant keeps the `args_digest` of the digest-bound approval it rests on (carried into its token).
// Tasks opened before this migration declare nothing: they issue no new grant and accept no offer.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('tasks')
    .addColumn('audiences', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('delegates', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .execute();
  await db.schema
    .alterTable('grants')
    .addColumn('args_digest', 'text', (c) => c.check(sql`args_digest ~ '^sha256:[0-9a-f]{64}$'`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('grants').dropColumn('args_digest').execute();
  await db.schema.alterTable('tasks').dropColumn('delegates').dropColumn('audiences').execute();
}
