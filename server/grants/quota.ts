import { sql } from 'kysely';
import type { TaskRow, Tx } from '../db/database';
import { QuotaExceeded } from '../shared/errors';
import { TaskNotFound, TaskNotOpen } from '../tasks/task.errors';

/**
 * Takes one grant's share of the task's limits in a single UPDATE: the row lock serialises concurrent
 * requests, and the WHERE clause admits a request only while every limit still holds, so 200 parallel
 * requests against a budget of 50 issue exactly 50. When nothing was updated, says which limit refused.
 */
export async function reserveTaskQuota(
  tx: Tx,
  q: { taskId: string; cost: number; now: Date; drawBudget: boolean },
): Promise<TaskRow> {
  const cost = q.drawBudget ? q.cost : 0;
  const result = await sql<TaskRow>`
    update tasks set grants_issued = grants_issued + 1, active_grants = active_grants + 1,
      budget_spent = budget_spent + ${cost}
    where id = ${q.taskId} and status = 'open' and expires_at > ${q.now}
      and grants_issued < max_grants and active_grants < max_active and budget_spent + ${cost} <= budget
    returning *`.execute(tx);
  const row = result.rows[0];
  if (row) return row;
  throw await whyRefused(tx, q.taskId, cost, q.now);
}

async function whyRefused(tx: Tx, taskId: string, cost: number, now: Date): Promise<Error> {
  const t = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
  if (!t) return new TaskNotFound();
  if (t.status !== 'open') return new TaskNotOpen(t.status);
  if (t.expires_at.getTime() <= now.getTime()) return new TaskNotOpen('expired');
  if (t.grants_issued >= t.max_grants)
    return new QuotaExceeded('max_grants', `the task has issued its ${t.max_grants} grants`);
  if (t.active_grants >= t.max_active)
    return new QuotaExceeded('max_active', `the task already has ${t.max_active} active grants`);
  return new QuotaExceeded(
    'budget',
    `the grant costs ${cost}, the task has ${t.budget - t.budget_spent} of its budget ${t.budget} left`,
  );
}
