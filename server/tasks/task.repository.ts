import type { Insertable } from 'kysely';
import type {
  ApprovalRow,
  ApprovalsTable,
  DbOrTx,
  TaskRow,
  TaskStatus,
  TasksTable,
  Tx,
} from '../db/database';

export async function insertTask(tx: Tx, row: Insertable<TasksTable>): Promise<TaskRow> {
  return tx.insertInto('tasks').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findTask(db: DbOrTx, id: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads a task under its row lock (FOR NO KEY UPDATE: see db/locks.ts for the lock order). */
export async function lockTask(tx: Tx, id: string): Promise<TaskRow | undefined> {
  return tx.selectFrom('tasks').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
}

export async function listTasks(
  db: DbOrTx,
  q: { owner?: string; status?: TaskStatus; limit: number },
): Promise<TaskRow[]> {
  let query = db.selectFrom('tasks').selectAll().orderBy('created_at', 'desc').limit(q.limit);
  if (q.owner) query = query.where('owner', '=', q.owner);
  if (q.status) query = query.where('status', '=', q.status);
  return query.execute();
}

export async function insertApproval(tx: Tx, row: Insertable<ApprovalsTable>): Promise<ApprovalRow> {
  return tx.insertInto('approvals').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * The newest approval for this scope that is live at `now`: not expired, not used up, and (when the
 * approval covers exact arguments) matching the digest of the arguments the agent presented.
 */
export async function findLiveApproval(
  db: DbOrTx,
  q: { taskId: string; scope: string; now: Date; argsDigest?: string },
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

export async function listApprovals(db: DbOrTx, taskId: string): Promise<ApprovalRow[]> {
  return db.selectFrom('approvals').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();
}
