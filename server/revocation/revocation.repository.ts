import { sql } from 'kysely';
import type { DbOrTx, JobRow, LeaseKind, LeaseRow, LeaseState, Tx } from '../db/database';

/** The only writer of `revocation_jobs` (the outbox), `leases` (every Vault handle) and `revocation_feed`. */

export type JobKind = 'revoke_task' | 'revoke_grants';

export interface JobPayload {
  /** revoke_task: what the task becomes once everything is confirmed revoked. */
  finalStatus?: 'closed' | 'expired';
  taskTokenAccessor?: string | null;
  /** revoke_grants: the grants whose tokens and leases to revoke. */
  grantIds?: string[];
}

export async function enqueueJob(
  tx: Tx,
  job: { taskId: string; grantId?: string | null; kind: JobKind; payload: JobPayload; dueAt: Date },
): Promise<void> {
  await tx
    .insertInto('revocation_jobs')
    .values({
      task_id: job.taskId,
      grant_id: job.grantId ?? null,
      kind: job.kind,
      payload: JSON.stringify(job.payload),
      due_at: job.dueAt,
    })
    .execute();
}

/**
 * Takes up to `limit` due jobs for this worker. The claim pushes `due_at` forward by the visibility
 * timeout and commits at once, so no transaction stays open across Vault calls; a worker that dies
 * mid-job simply lets the job come due again. SKIP LOCKED lets several brokers drain in parallel.
 */
export async function claimDueJobs(
  db: DbOrTx,
  q: { now: Date; limit: number; visibilityMs: number },
): Promise<JobRow[]> {
  const until = new Date(q.now.getTime() + q.visibilityMs);
  const result = await sql<JobRow>`
    update revocation_jobs set due_at = ${until}, attempts = attempts + 1
    where id in (
      select id from revocation_jobs
      where status = 'pending' and due_at <= ${q.now}
      order by due_at
      limit ${q.limit}
      for update skip locked)
    returning *`.execute(db);
  return result.rows;
}

export async function rescheduleJob(
  db: DbOrTx,
  id: string,
  dueAt: Date,
  error: string | null,
): Promise<void> {
  await db
    .updateTable('revocation_jobs')
    .set({ due_at: dueAt, last_error: error })
    .where('id', '=', id)
    .execute();
}

/** Leases still to revoke (`failed` ones too: past the retry budget they are still retried): of a whole task, or of some grants. */
export async function unrevokedLeases(
  db: DbOrTx,
  q: { taskId: string; grantIds?: string[] },
): Promise<LeaseRow[]> {
  let query = db
    .selectFrom('leases')
    .selectAll()
    .where('task_id', '=', q.taskId)
    .where('state', 'in', ['active', 'retrying', 'failed'])
    .orderBy('created_at');
  if (q.grantIds)
    query = query.where(
      'grant_id',
      'in',
      q.grantIds.length ? q.grantIds : ['00000000-0000-0000-0000-000000000000'],
    );
  return query.execute();
}

export async function setLeaseState(
  db: DbOrTx,
  id: string,
  change: { state: LeaseState; at: Date; error?: string | null; countAttempt?: boolean },
): Promise<void> {
  await db
    .updateTable('leases')
    .set((eb) => ({
      state: change.state,
      last_error: change.error ?? null,
      attempts: change.countAttempt === false ? eb.ref('attempts') : eb('attempts', '+', 1),
      revoked_at: change.state === 'revoked' || change.state === 'expired' ? change.at : null,
    }))
    .where('id', '=', id)
    .execute();
}

export async function finishJob(tx: Tx, id: string, now: Date): Promise<void> {
  await tx
    .updateTable('revocation_jobs')
    .set({ status: 'done', done_at: now, last_error: null })
    .where('id', '=', id)
    .execute();
}

export async function countFailedLeases(db: DbOrTx, taskId: string): Promise<number> {
  const rows = await db
    .selectFrom('leases')
    .select('id')
    .where('task_id', '=', taskId)
    .where('state', '=', 'failed')
    .execute();
  return rows.length;
}

/** A Vault handle to track (and revoke): a token by accessor or a lease by id. */
export interface TrackedHandle {
  kind: LeaseKind;
  scope: string | null;
  leaseId?: string | undefined;
  accessor?: string | undefined;
  expiresAt: Date;
}

export async function insertLeases(
  tx: Tx,
  q: { taskId: string; grantId: string | null; handles: TrackedHandle[] },
): Promise<void> {
  if (q.handles.length === 0) return;
  await tx
    .insertInto('leases')
    .values(
      q.handles.map((h) => ({
        task_id: q.taskId,
        grant_id: q.grantId,
        scope: h.scope,
        kind: h.kind,
        vault_lease_id: h.leaseId ?? null,
        vault_token_accessor: h.accessor ?? null,
        expires_at: h.expiresAt,
      })),
    )
    .execute();
}

/** Leases of grants that expired on their own: Vault lets them lapse; the receipt says `expired`. */
export async function expireLeasesOfGrants(tx: Tx, grantIds: string[], now: Date): Promise<void> {
  if (grantIds.length === 0) return;
  await tx
    .updateTable('leases')
    .set({ state: 'expired', revoked_at: now })
    .where('grant_id', 'in', grantIds)
    .where('state', '=', 'active')
    .execute();
}

export async function insertFeedEntries(
  tx: Tx,
  rows: Array<{ grantId: string; taskId: string; reason: string; at: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('revocation_feed')
    .values(rows.map((r) => ({ grant_id: r.grantId, task_id: r.taskId, reason: r.reason, revoked_at: r.at })))
    .execute();
}

/** Sequenced feed entries after `after`, in commit order. */
export async function feedAfter(db: DbOrTx, q: { after: number; limit: number; taskId?: string }) {
  let query = db
    .selectFrom('revocation_feed')
    .select(['seq', 'grant_id', 'task_id', 'reason', 'revoked_at'])
    .where('seq', 'is not', null)
    .where('seq', '>', String(q.after))
    .orderBy('seq')
    .limit(q.limit);
  if (q.taskId) query = query.where('task_id', '=', q.taskId);
  return query.execute() as Promise<
    Array<{ seq: string; grant_id: string; task_id: string; reason: string; revoked_at: Date }>
  >;
}

export async function hasUnsequencedFeed(db: DbOrTx): Promise<boolean> {
  const row = await db
    .selectFrom('revocation_feed')
    .select('id')
    .where('seq', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Gives every committed, unsequenced feed entry the next numbers, in insert order, while holding the
 * feed's transaction-scoped advisory lock (taken by the caller): sequencing runs one at a time, so the
 * numbers readers see only ever grow, and an entry is numbered only once its transaction has committed.
 */
export async function sequenceFeedEntries(tx: Tx, max: number): Promise<number> {
  const r = await sql<{ seq: string }>`
    with base as (select coalesce(max(seq), 0) as m from revocation_feed),
    todo as (
      select id, row_number() over (order by id) as rn
      from (select id from revocation_feed where seq is null order by id limit ${max}) pending)
    update revocation_feed f set seq = base.m + todo.rn
    from base, todo where f.id = todo.id
    returning f.seq`.execute(tx);
  return r.rows.length;
}

/** A transaction-scoped advisory lock: false when another transaction holds it. */
export async function tryTransactionLock(tx: Tx, key: bigint): Promise<boolean> {
  const r = await sql<{
    got: boolean;
  }>`select pg_try_advisory_xact_lock(${key.toString()}::bigint) as got`.execute(tx);
  return r.rows[0]?.got === true;
}

export async function leasesOfTask(db: DbOrTx, taskId: string): Promise<LeaseRow[]> {
  return db.selectFrom('leases').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();
}

export async function jobsOfTask(db: DbOrTx, taskId: string) {
  return db
    .selectFrom('revocation_jobs')
    .select(['id', 'kind', 'status', 'attempts', 'last_error', 'due_at'])
    .where('task_id', '=', taskId)
    .execute();
}
