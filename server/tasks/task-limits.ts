import type { DbOrTx, TaskRow, Tx } from '../db/database';
import { QuotaExceeded } from '../shared/errors';
import { TaskNotFound, TaskNotOpen } from './task.errors';
import * as tasks from './task.repository';

/**
 * The task's limits as the grants domain uses them: a slot per grant (max_grants, max_active, and the
 * budget a direct grant costs), the task's budget pool for delegations, and the active count.
 */

/** Takes a grant's slot or throws which limit refused (429) or why the task cannot issue (409/404). */
export async function takeGrantSlot(
  tx: Tx,
  q: { taskId: string; cost: number; now: Date },
): Promise<TaskRow> {
  const row = await tasks.takeGrantSlot(tx, q);
  if (row) return row;
  throw await whySlotRefused(tx, q.taskId, q.cost, q.now);
}

/** Why a task refused a slot (read after the refusal): which limit (429), or why it cannot issue. */
export async function whySlotRefused(db: DbOrTx, taskId: string, cost: number, now: Date): Promise<Error> {
  const t = await tasks.findTask(db, taskId);
  if (!t) return new TaskNotFound();
  if (t.status !== 'open') return new TaskNotOpen(t.status);
  if (t.expires_at.getTime() <= now.getTime()) return new TaskNotOpen('expired');
  if (t.grants_issued >= t.max_grants)
    return new QuotaExceeded('max_grants', `the task has issued its ${t.max_grants} grants`);
  if (t.active_grants >= t.max_active)
    return new QuotaExceeded('max_active', `the task already has ${t.max_active} active grants`);
  if (t.max_actions !== null && t.actions_spent >= t.max_actions)
    return new QuotaExceeded('max_actions', `the task has made its ${t.max_actions} actions`);
  return new QuotaExceeded(
    'budget',
    `the grant costs ${cost}, the task has ${t.budget - t.budget_spent} of its budget ${t.budget} left`,
  );
}

export const grantSlotStep = tasks.grantSlotStep;
export const returnGrantSlot = tasks.returnGrantSlot;
export const releaseActive = tasks.releaseActive;
export const drawTaskBudget = tasks.drawTaskBudget;
export const returnTaskBudget = tasks.returnTaskBudget;
export const drawTaskActions = tasks.drawTaskActions;
export const returnTaskActions = tasks.returnTaskActions;
