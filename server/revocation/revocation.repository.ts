import { sql } from 'kysely';
import type { DbOrTx, JobRow, LeaseRow, LeaseState, Tx } from '../db/database';

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
