import type { GrantRow, Tx } from '../db/database';
import { QuotaExceeded } from '../shared/errors';
import {
  drawTaskBudget,
  releaseApprovalsOf,
  returnGrantSlot,
  returnTaskBudget,
  takeGrantSlot,
} from '../tasks';
import { GrantNoLongerActive } from './grant.errors';
import * as grants from './grant.repository';
import * as offers from './offer.repository';

/**
 * Budgets follow the delegation chain (DESIGN, "Budgets follow the chain"). Each grant draws on a pool:
 * a direct grant on the task's budget, a delegated grant on the reservation its offer took from its
 * parent's pool. When grants end (revoked, expired) or offers die unredeemed, what they leave unspent
 * flows back to the pool it came from. This module is the only place these rules live.
 */

/** A new grant's draw: a direct grant takes a task slot and its cost; a delegated one a slot only. */
export async function reserveForGrant(
  tx: Tx,
  q: { taskId: string; cost: number; delegated: boolean; now: Date },
): Promise<void> {
  // A delegated grant's cost comes out of its offer's reservation, already taken from the parent.
  await takeGrantSlot(tx, { taskId: q.taskId, cost: q.delegated ? 0 : q.cost, now: q.now });
}

/**
 * An offer's reservation: a fan-out slot on the parent and `budget` from the parent's pool, each in one
 * guarded UPDATE, so concurrent offers can never overdraw it.
 */
export async function reserveForOffer(
  tx: Tx,
  q: { parent: GrantRow; budget: number; maxFanout: number },
): Promise<void> {
  if (
    !(await grants.takeChildSlot(tx, { parentId: q.parent.id, budget: q.budget, maxFanout: q.maxFanout }))
  ) {
    const now = await grants.childSlotState(tx, q.parent.id);
    if (now.status !== 'active') throw new GrantNoLongerActive();
    if (now.children >= q.maxFanout)
      throw new QuotaExceeded('max_fanout', `the grant already has ${q.maxFanout} delegations`);
    throw new QuotaExceeded('budget', `the grant has less than ${q.budget} of its budget left`);
  }
  if (q.parent.budget_reserved !== null || q.budget === 0) return;
  if (!(await drawTaskBudget(tx, q.parent.task_id, q.budget)))
    throw new QuotaExceeded('budget', `the grant has less than ${q.budget} of its budget left`);
}

/**
 * Gives back everything a grant that was never issued took: its task slot, a direct grant's cost (a
 * delegated grant's went back with its offer, which becomes redeemable again until it expires) and any
 * single-use approval it consumed. Used when minting fails and when a broker died mid-issue.
 */
export async function releaseReservation(
  tx: Tx,
  g: { id: string; task_id: string; cost: number; budget_reserved: number | null; offer_id: string | null },
): Promise<void> {
  await returnGrantSlot(tx, { taskId: g.task_id, cost: g.budget_reserved === null ? g.cost : 0 });
  if (g.offer_id) await offers.reopenOffer(tx, { offerId: g.offer_id, grantId: g.id });
  await releaseApprovalsOf(tx, g.id);
}

/**
 * Ended grants give back what they left unspent. Deepest first, so a child's return reaches its parent
 * before the parent's own remainder is computed. Returns the total that flowed back.
 */
export async function returnBudgets(tx: Tx, q: { taskId: string; grantIds: string[] }): Promise<number> {
  if (q.grantIds.length === 0) return 0;
  let returned = 0;
  for (const g of await grants.reservationsOf(tx, q.grantIds)) {
    returned += await returnOffersOf(tx, q.taskId, g.id);
    if (g.budget_reserved === null || !g.parent_id) continue;
    // Re-read: children processed just before may have returned budget into this grant.
    const unspent = g.budget_reserved - (await grants.budgetSpentOf(tx, g.id));
    if (unspent <= 0) continue;
    await grants.settleReservation(tx, g.id, g.budget_reserved);
    await returnToPool(tx, { taskId: q.taskId, parentId: g.parent_id, amount: unspent });
    returned += unspent;
  }
  return returned;
}

/** Pending offers of a grant that ended die with it; their reservations go back to that grant's pool. */
async function returnOffersOf(tx: Tx, taskId: string, grantId: string): Promise<number> {
  let total = 0;
  for (const budget of await offers.revokePendingOffersOf(tx, grantId)) {
    await returnToPool(tx, { taskId, parentId: grantId, amount: budget, releaseChild: true });
    total += budget;
  }
  return total;
}

/**
 * Gives `amount` back to the pool `parentId` draws on: its own reservation when it is a live delegated
 * grant, else the task's budget. A delegated grant that has ended already gave back its own remainder,
 * so what reaches it is passed on to the nearest live pool above. `releaseChild` also frees a fan-out
 * slot (an offer that never became a grant does not count as a child).
 */
export async function returnToPool(
  tx: Tx,
  q: { taskId: string; parentId: string; amount: number; releaseChild?: boolean },
): Promise<void> {
  const parent = await grants.returnToGrant(tx, {
    grantId: q.parentId,
    amount: q.amount,
    releaseChild: q.releaseChild ?? false,
  });
  if (q.amount <= 0) return;
  const live = parent.status === 'pending' || parent.status === 'active';
  if (parent.budget_reserved !== null && !live && parent.parent_id) {
    await returnToPool(tx, { taskId: q.taskId, parentId: parent.parent_id, amount: q.amount });
    return;
  }
  if (parent.budget_reserved === null) await returnTaskBudget(tx, q.taskId, q.amount);
}
