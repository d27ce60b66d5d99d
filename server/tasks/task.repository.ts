import { type Insertable, sql } from 'kysely';
import type { DbOrTx, TaskRow, TaskStatus, TasksTable, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';

/** The only writer of the `tasks` table (approvals live in approval.repository.ts). */

export async function insertTask(tx: Tx, row: Insertable<TasksTable>): Promise<TaskRow> {
  return tx.insertInto('tasks').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Records the Vault token of a task being opened; undefined when the task is no longer open. */
export async function recordTaskToken(tx: Tx, id: string, accessor: string): Promise<TaskRow | undefined> {
  return tx
    .updateTable('tasks')
    .set({ vault_token_accessor: accessor })
    .where('id', '=', id)
    .where('status', '=', 'open')
    .returningAll()
    .executeTakeFirst();
}

export async function findTask(db: DbOrTx, id: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
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

/** One open task past its expiry, locked, skipping tasks another unit holds. */
export async function lockOneExpiredTask(tx: Tx, now: Date): Promise<TaskRow | undefined> {
  return tx
    .selectFrom('tasks')
    .selectAll()
    .where('status', '=', 'open')
    .where('expires_at', '<=', now)
    .limit(1)
    .forNoKeyUpdate()
    .skipLocked()
    .executeTakeFirst();
}

/**
 * Takes one grant's share of the task's limits in a single UPDATE: the row lock serialises concurrent
 * requests, and the WHERE clause admits a request only while every limit still holds, so 200 parallel
 * requests against a budget of 50 issue exactly 50. Undefined when a limit (or the task's state) refused.
 */
export async function takeGrantSlot(
  tx: Tx,
  q: { taskId: string; cost: number; now: Date },
): Promise<TaskRow | undefined> {
  const result = await sql<TaskRow>`
    update tasks set grants_issued = grants_issued + 1, active_grants = active_grants + 1,
      budget_spent = budget_spent + ${q.cost}
    where id = ${q.taskId} and status = 'open' and expires_at > ${q.now}
      and grants_issued < max_grants and active_grants < max_active and budget_spent + ${q.cost} <= budget
      and (max_actions is null or actions_spent < max_actions)
    returning *`.execute(tx);
  return result.rows[0];
}

/**
 * The same slot as a step of a one-statement unit (db/one-statement.ts): every limit in its WHERE, the
 * task row locked by the update itself (task row first). No row when the task cannot issue.
 */
export function grantSlotStep(q: { taskId: string; cost: number; now: Date }): Cte {
  return cte(
    'task_slot',
    sql`
    update tasks set grants_issued = grants_issued + 1, active_grants = active_grants + 1,
      budget_spent = budget_spent + ${q.cost}
    where id = ${q.taskId} and status = 'open' and expires_at > ${q.now}
      and grants_issued < max_grants and active_grants < max_active and budget_spent + ${q.cost} <= budget
      and (max_actions is null or actions_spent < max_actions)
    returning id`,
  );
}

/** Gives back a slot taken for a grant that was never issued (and `cost` of the task's budget). */
export async function returnGrantSlot(tx: Tx, q: { taskId: string; cost: number }): Promise<void> {
  await sql`
    update tasks set grants_issued = greatest(grants_issued - 1, 0), active_grants = greatest(active_grants - 1, 0),
      budget_spent = greatest(budget_spent - ${q.cost}, 0)
    where id = ${q.taskId} and status = 'open'`.execute(tx);
}

/** `n` grants of an open task stopped being active (revoked or expired). */
export async function releaseActive(tx: Tx, taskId: string, n: number): Promise<void> {
  await tx
    .updateTable('tasks')
    .set((eb) => ({ active_grants: sql`greatest(${eb.ref('active_grants')} - ${n}, 0)` }))
    .where('id', '=', taskId)
    .where('status', '=', 'open')
    .execute();
}

/** Draws `amount` from the task's budget; false when it does not have that much left (or is not open). */
export async function drawTaskBudget(tx: Tx, taskId: string, amount: number): Promise<boolean> {
  const r = await sql<{ id: string }>`
    update tasks set budget_spent = budget_spent + ${amount}
    where id = ${taskId} and status = 'open' and budget_spent + ${amount} <= budget
    returning id`.execute(tx);
  return r.rows.length === 1;
}

export async function returnTaskBudget(tx: Tx, taskId: string, amount: number): Promise<void> {
  await tx
    .updateTable('tasks')
    .set((eb) => ({ budget_spent: sql`greatest(${eb.ref('budget_spent')} - ${amount}, 0)` }))
    .where('id', '=', taskId)
    .execute();
}

/**
 * Draws `amount` from the task's action pool; false when it has less than that left. An uncapped task
 * (`max_actions` null) always has enough: its calls are counted all the same.
 */
export async function drawTaskActions(tx: Tx, taskId: string, amount: number): Promise<boolean> {
  const r = await sql<{ id: string }>`
    update tasks set actions_spent = actions_spent + ${amount}
    where id = ${taskId} and (max_actions is null or actions_spent + ${amount} <= max_actions)
    returning id`.execute(tx);
  return r.rows.length === 1;
}

export async function returnTaskActions(tx: Tx, taskId: string, amount: number): Promise<void> {
  await tx
    .updateTable('tasks')
    .set((eb) => ({ actions_spent: sql`greatest(${eb.ref('actions_spent')} - ${amount}, 0)` }))
    .where('id', '=', taskId)
    .execute();
}

/** open → closing: no grant of it counts as active from here on. */
export async function markClosing(tx: Tx, taskId: string, q: { now: Date; reason: string }): Promise<void> {
  await tx
    .updateTable('tasks')
    .set({ status: 'closing', closing_at: q.now, close_reason: q.reason, active_grants: 0 })
    .where('id', '=', taskId)
    .execute();
}

/** closing → closed (or expired), once everything issued for it is confirmed revoked. */
export async function markFinished(
  tx: Tx,
  taskId: string,
  q: { status: 'closed' | 'expired'; now: Date },
): Promise<void> {
  await tx
    .updateTable('tasks')
    .set({ status: q.status, closed_at: q.now })
    .where('id', '=', taskId)
    .execute();
}

export async function findTasks(db: DbOrTx, ids: string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
}
