import { type Insertable, sql } from 'kysely';
import type {
  ApprovalRequestRow,
  ApprovalRequestStatus,
  ApprovalRequestsTable,
  ApproverKind,
  DbOrTx,
  Tx,
} from '../db/database';

/** The only writer of the `approval_requests` table. */

export async function insertApprovalRequest(
  tx: Tx,
  row: Insertable<ApprovalRequestsTable>,
): Promise<ApprovalRequestRow> {
  return tx.insertInto('approval_requests').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findApprovalRequest(db: DbOrTx, id: string): Promise<ApprovalRequestRow | undefined> {
  return db.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A pending request of this agent for the same scopes and arguments, still waiting at `now`. */
export async function findPendingTwin(
  db: DbOrTx,
  q: { taskId: string; requester: string; scopes: string[]; argsDigest: string; now: Date },
): Promise<ApprovalRequestRow | undefined> {
  return db
    .selectFrom('approval_requests')
    .selectAll()
    .where('task_id', '=', q.taskId)
    .where('requester', '=', q.requester)
    .where('args_digest', '=', q.argsDigest)
    .where('scopes', '=', sql<string[]>`${q.scopes}::text[]`)
    .where('status', '=', 'pending')
    .where('expires_at', '>', q.now)
    .executeTakeFirst();
}

export async function countPending(db: DbOrTx, taskId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('approval_requests')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('task_id', '=', taskId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Newest first, optionally of one status or one task. */
export async function listApprovalRequests(
  db: DbOrTx,
  q: { status?: ApprovalRequestStatus; taskId?: string; limit: number },
): Promise<ApprovalRequestRow[]> {
  let query = db
    .selectFrom('approval_requests')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(q.limit);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.taskId) query = query.where('task_id', '=', q.taskId);
  return query.execute();
}

export interface Decider {
  kind: ApproverKind;
  issuer: string;
  subject: string;
  name: string;
}

/**
 * pending → approved or denied, only while it is still pending and unexpired: of two approvers deciding
 * at once, one wins and the other finds nothing to decide. Undefined when nothing was updated.
 */
export async function markDecided(
  tx: Tx,
  q: { id: string; status: 'approved' | 'denied'; by: Decider; reason: string; now: Date },
): Promise<ApprovalRequestRow | undefined> {
  return tx
    .updateTable('approval_requests')
    .set({
      status: q.status,
      decided_by_kind: q.by.kind,
      decided_by_issuer: q.by.issuer,
      decided_by_subject: q.by.subject,
      decided_by_name: q.by.name,
      decision_reason: q.reason,
      decided_at: q.now,
    })
    .where('id', '=', q.id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', q.now)
    .returningAll()
    .executeTakeFirst();
}

/** Pending requests past their expiry become `expired`; returns them (at most `limit`). */
export async function expirePending(tx: Tx, now: Date, limit = 500): Promise<ApprovalRequestRow[]> {
  return tx
    .updateTable('approval_requests')
    .set({ status: 'expired' })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('approval_requests')
        .select('id')
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
}
