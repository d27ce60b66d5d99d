import type { GrantRow, Tx } from '../db/database';
import { Conflict, QuotaExceeded } from '../shared/errors';
import { drawTaskActions, loadTask, returnTaskActions } from '../tasks';
import * as grants from './grant.repository';
import * as offers from './offer.repository';

/**
 * Action metering: the tool calls a task's grants make count against its `max_actions`, across the whole
 * delegation tree, with the same shape as the budget. Each grant draws on a pool: its own share when its
 * delegation reserved one (`actions` on the offer), else its nearest ancestor's share, else the task's
 * pool. A share comes out of the pool above it when the offer is made, and what a grant leaves unspent
 * flows back up when it ends (or when its offer dies unredeemed). This module is the only place these
 * rules live; the counters are written by the grants' and tasks' repositories.
 */

export type ActionPool =
  | { kind: 'task'; taskId: string; limit: number | null; spent: number }
  | { kind: 'grant'; grantId: string; limit: number; spent: number };

/** The pool `grant` draws on. */
export async function actionPoolOf(tx: Tx, grant: { id: string; task_id: string }): Promise<ActionPool> {
  const own = await grants.actionPoolOf(tx, grant.id);
  if (own) return { kind: 'grant', grantId: own.id, limit: own.actions_reserved, spent: own.actions_spent };
  const task = (await loadTask(tx, grant.task_id))!;
  return { kind: 'task', taskId: task.id, limit: task.max_actions, spent: task.actions_spent };
}

const remainingIn = (pool: ActionPool): number =>
  pool.limit === null ? Number.POSITIVE_INFINITY : Math.max(0, pool.limit - pool.spent);

function draw(tx: Tx, pool: ActionPool, amount: number): Promise<boolean> {
  return pool.kind === 'task'
    ? drawTaskActions(tx, pool.taskId, amount)
    : grants.drawGrantActions(tx, pool.grantId, amount);
}

/** An offer's share: `actions` out of the parent's pool, in one guarded update (never overdrawn). */
export async function reserveActionsForOffer(
  tx: Tx,
  q: { parent: GrantRow; actions: number },
): Promise<void> {
  const pool = await actionPoolOf(tx, q.parent);
  if (!(await draw(tx, pool, q.actions)))
    throw new QuotaExceeded(
      'max_actions',
      `the grant has ${remainingIn(pool)} actions left, the delegation asks for ${q.actions}`,
    );
}

export interface Charged {
  /** Calls counted, in the order reported; the rest did not fit in the pool. */
  counted: number;
  charged: number;
  pool: ActionPool;
  /** The pool is spent: every grant drawing on it must stop. */
  exhausted: boolean;
}

/**
 * Charges reported calls (each `charge` already weighted) to the grant's pool, in order, as far as the
 * pool goes. The caller holds the task row, so no other charge, offer or return of the task interleaves.
 */
export async function chargeCalls(tx: Tx, q: { grant: GrantRow; charges: number[] }): Promise<Charged> {
  const pool = await actionPoolOf(tx, q.grant);
  let left = remainingIn(pool);
  let counted = 0;
  let charged = 0;
  for (const c of q.charges) {
    if (c > left) break;
    left -= c;
    charged += c;
    counted++;
  }
  if (charged > 0 && !(await draw(tx, pool, charged)))
    throw new Conflict('the action pool changed while it was being charged; report again');
  if (charged > 0) await grants.addActionsUsed(tx, q.grant.id, charged);
  const after: ActionPool = { ...pool, spent: pool.spent + charged };
  // Spent: nothing left after these calls, or a call that did not fit (it was made without actions).
  const exhausted = pool.limit !== null && (counted < q.charges.length || (left <= 0 && charged > 0));
  return { counted, charged, pool: after, exhausted };
}

/**
 * Gives `amount` back to the pool that `grantId` draws on: its own share when it is live and has one,
 * else further up, else the task's pool.
 */
export async function returnActionsToPool(
  tx: Tx,
  q: { taskId: string; grantId: string | null; amount: number },
): Promise<void> {
  if (q.amount <= 0) return;
  let id = q.grantId;
  while (id) {
    const g = await grants.returnActionsToGrant(tx, { grantId: id, amount: q.amount });
    if (g.actions_reserved !== null && (g.status === 'pending' || g.status === 'active')) return;
    id = g.parent_id;
  }
  await returnTaskActions(tx, q.taskId, q.amount);
}

/**
 * Ended grants give back the action shares they left unspent and those their pending offers held (read
 * before the offers are revoked with them). Deepest first, as for the budget.
 */
export async function returnActions(tx: Tx, q: { taskId: string; grantIds: string[] }): Promise<void> {
  if (q.grantIds.length === 0) return;
  for (const g of await grants.reservationsOf(tx, q.grantIds)) {
    for (const held of await offers.pendingOfferActionsOf(tx, g.id))
      await returnActionsToPool(tx, { taskId: q.taskId, grantId: g.id, amount: held });
    if (g.actions_reserved === null) continue;
    const unspent = await grants.settleActions(tx, g.id);
    await returnActionsToPool(tx, { taskId: q.taskId, grantId: g.parent_id, amount: unspent });
  }
}
