import { type Kysely, sql } from 'kysely';

// Verified revocation (DESIGN "Revocation cannot be blocked by the holder"): a lease remembers the
// PostgreSQL login it opened (role and target) so the broker can lock it out itself and prove it dead;
// `verified_at` is when that proof was made; a handle Vault keeps refusing ends `irrevocable` instead of
// retrying for ever. Jobs are claimed with a session-scoped advisory lock and fenced by `claim`.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('leases')
    .addColumn('db_role', 'text')
    .addColumn('db_target', 'text')
    .addColumn('verified_at', 'timestamptz')
    .execute();
  await sql`update leases set state = 'retrying' where state = 'failed'`.execute(db);
  await sql`alter table leases drop constraint leases_state_check`.execute(db);
  await sql`alter table leases add constraint leases_state_check
    check (state in ('active', 'revoked', 'expired', 'retrying', 'irrevocable'))`.execute(db);
  await db.schema.alterTable('revocation_jobs').addColumn('claim', 'uuid').execute();
  await db.schema
    .createIndex('leases_db_role')
    .on('leases')
    .column('db_role')
    .where(sql.ref('db_role'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('leases_db_role').execute();
  await db.schema.alterTable('revocation_jobs').dropColumn('claim').execute();
  await sql`update leases set state = 'retrying' where state = 'irrevocable'`.execute(db);
  await sql`alter table leases drop constraint leases_state_check`.execute(db);
  await sql`alter table leases add constraint leases_state_check
    check (state in ('active', 'revoked', 'expired', 'retrying', 'failed'))`.execute(db);
  await db.schema
    .alterTable('leases')
    .dropColumn('db_role')
    .dropColumn('db_target')
    .dropColumn('verified_at')
    .execute();
}
