import type { Insertable } from 'kysely';
import type { ApprovalRow, ApprovalsTable, DbOrTx, Tx } from '../db/database';

/** The only writer of the `approvals` table. */

export async function insertApproval(tx: Tx, row: Insertable<ApprovalsTable>): Promise<ApprovalRow> {
  return tx.insertInto('approvals').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * The newest approval for this scope that is live at `now`: not expired, not used up, and (when the
 * approval covers exact arguments) matching the digest of the arguments the agent presented. With
 * `requestId`, only an approval given in answer to that approval request.
 */
export async function findLiveApproval(
  db: DbOrTx,
  q: { taskId: string; scope: string; now: Date; argsDigest?: string; requestId?: string },
): Promise<ApprovalRow | undefined> {
  let query = db
    .selectFrom('approvals')
    .selectAll()
    .where('task_id', '=', q.taskId)
    .where('scope', '=', q.scope)
    .where('expires_at', '>', q.now)
    .where((eb) => eb.or([eb('single_use', '=', false), eb('used_at', 'is', null)]))
    .orderBy('created_at', 'desc')
    .limit(1);
  if (q.requestId) query = query.where('approval_request_id', '=', q.requestId);
  query = q.argsDigest
    ? query.where((eb) => eb.or([eb('args_digest', 'is', null), eb('args_digest', '=', q.argsDigest!)]))
    : query.where('args_digest', 'is', null);
  return query.executeTakeFirst();
}

/** Consumes a single-use approval; false when another request used it first. */
export async function consumeApproval(tx: Tx, id: string, grantId: string, now: Date): Promise<boolean> {
  const result = await tx
    .updateTable('approvals')
    .set({ used_at: now, used_by_grant: grantId })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A grant that was never issued gives back the single-use approvals it consumed. */
export async function releaseApprovalsOf(tx: Tx, grantId: string): Promise<void> {
  await tx
    .updateTable('approvals')
    .set({ used_at: null, used_by_grant: null })
    .where('used_by_grant', '=', grantId)
    .execute();
}

export async function listApprovals(db: DbOrTx, taskId: string): Promise<ApprovalRow[]> {
  return db.selectFrom('approvals').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();
}

export async function listApprovalsOfRequest(db: DbOrTx, requestId: string): Promise<ApprovalRow[]> {
  return db
    .selectFrom('approvals')
    .selectAll()
    .where('approval_request_id', '=', requestId)
    .orderBy('scope')
    .execute();
}
