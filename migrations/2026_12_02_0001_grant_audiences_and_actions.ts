import { type Kysely, sql } from 'kysely';

// Issue 15:
// - RFC 8707: a grant may name several resources, so its token's `aud` is a list; `grants.audience`
//   becomes `grants.audiences` (each existing grant keeps its one audience).
// - Action metering: resource servers report tool calls against a task's `max_actions` (null: no cap).
//   Like the budget, actions follow the delegation chain: a delegation may reserve a share of its
//   parent's pool for the child (`delegation_offers.actions` → `grants.actions_reserved`); a grant
//   without a share draws on its nearest ancestor's, else on the task's. `actions_spent` is what a pool
//   has given out (calls and shares reserved below it), `actions_used` what the grant's own calls cost.
// - `usage_reports` remembers each report by the id its sender chose, so a retried report counts once.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table grants rename column audience to audiences`.execute(db);
  await sql`alter table grants alter column audiences type text[] using array[audiences]`.execute(db);
  await sql`alter table grants add constraint grants_audiences_present check (cardinality(audiences) >= 1)`.execute(
    db,
  );
  await db.schema
    .alterTable('tasks')
    .addColumn('max_actions', 'integer', (c) => c.check(sql`max_actions >= 0`))
    .addColumn('actions_spent', 'integer', (c) => c.notNull().defaultTo(0).check(sql`actions_spent >= 0`))
    .execute();
  await sql`alter table tasks add constraint tasks_actions_within_limit
    check (max_actions is null or actions_spent <= max_actions)`.execute(db);
  await db.schema
    .alterTable('grants')
    .addColumn('actions_reserved', 'integer', (c) => c.check(sql`actions_reserved >= 0`))
    .addColumn('actions_spent', 'integer', (c) => c.notNull().defaultTo(0).check(sql`actions_spent >= 0`))
    .addColumn('actions_used', 'integer', (c) => c.notNull().defaultTo(0).check(sql`actions_used >= 0`))
    .execute();
  await sql`alter table grants add constraint grants_actions_within_reservation
    check (actions_reserved is null or actions_spent <= actions_reserved)`.execute(db);
  await db.schema
    .alterTable('delegation_offers')
    .addColumn('actions', 'integer', (c) => c.check(sql`actions >= 0`))
    .execute();
  await db.schema
    .createTable('usage_reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('grant_id', 'uuid', (c) => c.notNull().references('grants.id').onDelete('cascade'))
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
    .addColumn('reported_by', 'text', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull().check(sql`calls >= 1`))
    .addColumn('counted', 'integer', (c) => c.notNull().check(sql`counted >= 0`))
    .addColumn('charged', 'integer', (c) => c.notNull().check(sql`charged >= 0`))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('usage_reports_grant').on('usage_reports').column('grant_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('usage_reports').execute();
  await db.schema.alterTable('delegation_offers').dropColumn('actions').execute();
  await sql`alter table grants drop constraint grants_actions_within_reservation`.execute(db);
  await db.schema
    .alterTable('grants')
    .dropColumn('actions_reserved')
    .dropColumn('actions_spent')
    .dropColumn('actions_used')
    .execute();
  await sql`alter table tasks drop constraint tasks_actions_within_limit`.execute(db);
  await db.schema.alterTable('tasks').dropColumn('max_actions').dropColumn('actions_spent').execute();
  await sql`alter table grants drop constraint grants_audiences_present`.execute(db);
  // A grant with several audiences keeps its first one.
  await sql`alter table grants alter column audiences type text using audiences[1]`.execute(db);
  await sql`alter table grants rename column audiences to audience`.execute(db);
}
