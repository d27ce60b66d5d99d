import { type Kysely, sql } from 'kysely';

// Asynchronous approval (the CIBA pattern): an agent's privileged grant request waits as an approval
// request until an approver decides; approvals record the verified identity of whoever decided (an OIDC
// issuer and subject for a human, the SPIFFE ID for an approver workload). Dev sign-in links are
// single-use: their ids are kept until they expire.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('approval_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.id'))
    .addColumn('requester', 'text', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('tool', 'text')
    .addColumn('target', 'text')
    .addColumn('intent', 'text')
    .addColumn('args_digest', 'text', (c) => c.notNull())
    .addColumn('args_preview', 'text')
    .addColumn('risk', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'approved', 'denied', 'expired')`),
    )
    .addColumn('policy_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('decided_by_kind', 'text', (c) => c.check(sql`decided_by_kind in ('human', 'workload')`))
    .addColumn('decided_by_issuer', 'text')
    .addColumn('decided_by_subject', 'text')
    .addColumn('decided_by_name', 'text')
    .addColumn('decision_reason', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'approval_requests_decided_by_someone',
      sql`status in ('pending', 'expired') or (decided_by_issuer is not null and decided_by_subject is not null)`,
    )
    .execute();
  await db.schema.createIndex('approval_requests_task').on('approval_requests').column('task_id').execute();
  await db.schema
    .createIndex('approval_requests_pending_expiry')
    .on('approval_requests')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();

  await db.schema
    .alterTable('approvals')
    .addColumn('approver_kind', 'text', (c) => c.check(sql`approver_kind in ('human', 'workload')`))
    .addColumn('approver_issuer', 'text')
    .addColumn('approver_subject', 'text')
    .addColumn('approval_request_id', 'uuid', (c) => c.references('approval_requests.id'))
    .execute();
  await db.schema
    .createIndex('approvals_request')
    .on('approvals')
    .column('approval_request_id')
    .where(sql.ref('approval_request_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('console_sign_in_links')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('console_sign_in_links').execute();
  await db.schema.dropIndex('approvals_request').execute();
  await db.schema
    .alterTable('approvals')
    .dropColumn('approval_request_id')
    .dropColumn('approver_subject')
    .dropColumn('approver_issuer')
    .dropColumn('approver_kind')
    .execute();
  await db.schema.dropTable('approval_requests').execute();
}
