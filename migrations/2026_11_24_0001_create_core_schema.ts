import { type Kysely, sql } from 'kysely';

// Grantline's whole data model. No secret value has a column: Vault tokens are kept by accessor,
// dynamic secrets by lease id, access tokens by jti (= grant id).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('open').check(sql`status in ('open', 'closing', 'closed', 'expired')`),
    )
    .addColumn('agents', sql`text[]`, (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('context', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('max_grants', 'integer', (c) => c.notNull())
    .addColumn('max_active', 'integer', (c) => c.notNull())
    .addColumn('max_depth', 'integer', (c) => c.notNull())
    .addColumn('max_fanout', 'integer', (c) => c.notNull())
    .addColumn('budget', 'integer', (c) => c.notNull())
    .addColumn('grants_issued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active_grants', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('budget_spent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('vault_token_accessor', 'text')
    .addColumn('policy_version', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closing_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('close_reason', 'text')
    .addCheckConstraint(
      'tasks_counters_within_limits',
      sql`
      grants_issued <= max_grants and active_grants >= 0 and active_grants <= max_active
      and budget_spent >= 0 and budget_spent <= budget`,
    )
    .execute();
  await db.schema.createIndex('tasks_status_expiry').on('tasks').columns(['status', 'expires_at']).execute();
  await db.schema.createIndex('tasks_owner').on('tasks').column('owner').execute();

  await db.schema
    .createTable('approvals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('approver', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('single_use', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('args_digest', 'text')
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_by_grant', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('approvals_task_scope').on('approvals').columns(['task_id', 'scope']).execute();

  await db.schema
    .createTable('grants')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('parent_id', 'uuid', (c) => c.references('grants.id'))
    .addColumn('offer_id', 'uuid')
    .addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('chain', sql`text[]`, (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('cost', 'integer', (c) => c.notNull())
    // Delegated grants draw on a reservation taken from their parent; direct grants draw on the task.
    .addColumn('budget_reserved', 'integer')
    .addColumn('budget_spent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('children', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('may_redelegate', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('constraints', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'active', 'revoked', 'expired', 'failed')`),
    )
    .addColumn('policy_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('approval_id', 'uuid', (c) => c.references('approvals.id'))
    .addColumn('vault_token_accessor', 'text')
    .addColumn('cert_thumbprint', 'text')
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoke_reason', 'text')
    .addCheckConstraint(
      'grants_budget_within_reservation',
      sql`
      budget_spent >= 0 and (budget_reserved is null or budget_spent <= budget_reserved)`,
    )
    .execute();
  await db.schema.createIndex('grants_task').on('grants').column('task_id').execute();
  await db.schema.createIndex('grants_parent').on('grants').column('parent_id').execute();
  await db.schema
    .createIndex('grants_pending_issued')
    .on('grants')
    .column('issued_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('grants_active_expiry')
    .on('grants')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'active')
    .execute();

  await db.schema
    .createTable('delegation_offers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('parent_grant_id', 'uuid', (c) => c.notNull().references('grants.id'))
    .addColumn('from_holder', 'text', (c) => c.notNull())
    .addColumn('to_holder', 'text', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('budget', 'integer', (c) => c.notNull())
    .addColumn('may_redelegate', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'redeemed', 'expired', 'revoked')`),
    )
    .addColumn('policy_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('redeemed_grant_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('redeemed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('offers_parent').on('delegation_offers').column('parent_grant_id').execute();
  await db.schema
    .createIndex('offers_pending_expiry')
    .on('delegation_offers')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();

  await db.schema
    .createTable('leases')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('grant_id', 'uuid', (c) => c.references('grants.id'))
    .addColumn('scope', 'text')
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('task_token', 'grant_token', 'scope_token', 'lease')`),
    )
    .addColumn('vault_lease_id', 'text')
    .addColumn('vault_token_accessor', 'text')
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`state in ('active', 'revoked', 'expired', 'retrying', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint(
      'leases_have_a_vault_handle',
      sql`vault_lease_id is not null or vault_token_accessor is not null`,
    )
    .execute();
  await db.schema.createIndex('leases_task').on('leases').column('task_id').execute();
  await db.schema.createIndex('leases_grant').on('leases').column('grant_id').execute();

  await db.schema
    .createTable('revocation_jobs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('grant_id', 'uuid')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'done', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('due_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('done_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('revocation_jobs_due')
    .on('revocation_jobs')
    .column('due_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.createIndex('revocation_jobs_task').on('revocation_jobs').column('task_id').execute();

  // The revocation feed: one row per revoked grant, in commit order of the revoking transaction.
  await db.schema
    .createTable('revocation_feed')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey())
    .addColumn('grant_id', 'uuid', (c) => c.notNull())
    .addColumn('task_id', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('current', 'previous', 'retired')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'signing_keys',
    'revocation_feed',
    'revocation_jobs',
    'leases',
    'delegation_offers',
    'grants',
    'approvals',
    'tasks',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
