import { sql } from 'kysely';
import type { Tx } from '../db/database';

/**
 * Budgets follow the delegation chain (DESIGN, "Budgets follow the chain"). A delegation reserves part
 * of its parent's pool: the task's for a direct grant, the parent grant's reservation for a delegated
 * one. When grants end (revoked, expired) or offers die unredeemed, what they leave unspent flows back
 * to the pool it came from. Grants are processed deepest first so a child's return reaches its parent
 * before the parent's own unspent remainder is computed.
 */
export async function returnBudgets(tx: Tx, q: { taskId: string; grantIds: string[] }): Promise<number> {
  if (q.grantIds.length === 0) return 0;
  let returned = 0;
  const ended = await tx
    .selectFrom('grants')
    .select(['id', 'parent_id', 'budget_reserved', 'depth'])
    .where('id', 'in', q.grantIds)
    .orderBy('depth', 'desc')
    .execute();
  for (const g of ended) {
    returned += await expireOffersOf(tx, q.taskId, g.id);
    if (g.budget_reserved === null || !g.parent_id) continue;
    // Re-read: children processed just before may have returned budget into this grant.
    const { budget_spent } = await tx
      .selectFrom('grants')
      .select('budget_spent')
      .where('id', '=', g.id)
      .executeTakeFirstOrThrow();
    const unspent = g.budget_reserved - budget_spent;
    if (unspent <= 0) continue;
    await tx.updateTable('grants').set({ budget_spent: g.budget_reserved }).where('id', '=', g.id).execute();
    await returnToPool(tx, q.taskId, g.parent_id, unspent);
    returned += unspent;
  }
  return returned;
}

/** Pending offers of a grant that ended die with it; their reservations go back to that grant's pool. */
async function expireOffersOf(tx: Tx, taskId: string, grantId: string): Promise<number> {
  const offers = await tx
    .updateTable('delegation_offers')
    .set({ status: 'revoked' })
    .where('parent_grant_id', '=', grantId)
    .where('status', '=', 'pending')
    .returning(['budget'])
    .execute();
  let total = 0;
  for (const o of offers) {
    await returnToPool(tx, taskId, grantId, o.budget, true);
    total += o.budget;
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
  taskId: string,
  parentId: string,
  amount: number,
  releaseChild = false,
): Promise<void> {
  const parent = await tx
    .updateTable('grants')
    .set((eb) => ({
      budget_spent: sql`case when ${eb.ref('budget_reserved')} is null or ${eb.ref('status')} not in ('pending', 'active')
        then ${eb.ref('budget_spent')} else greatest(${eb.ref('budget_spent')} - ${amount}, 0) end`,
      children: releaseChild ? sql`greatest(${eb.ref('children')} - 1, 0)` : eb.ref('children'),
    }))
    .where('id', '=', parentId)
    .returning(['budget_reserved', 'status', 'parent_id'])
    .executeTakeFirstOrThrow();
  if (amount <= 0) return;
  const live = parent.status === 'pending' || parent.status === 'active';
  if (parent.budget_reserved !== null && !live && parent.parent_id) {
    await returnToPool(tx, taskId, parent.parent_id, amount);
    return;
  }
  if (parent.budget_reserved === null) {
    await tx
      .updateTable('tasks')
      .set((eb) => ({ budget_spent: sql`greatest(${eb.ref('budget_spent')} - ${amount}, 0)` }))
      .where('id', '=', taskId)
      .execute();
  }
}
