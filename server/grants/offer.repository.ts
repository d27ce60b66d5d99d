import { sql } from 'kysely';
import type { DbOrTx, GrantRow, OfferRow, Tx } from '../db/database';

export async function insertOffer(
  tx: Tx,
  row: Omit<OfferRow, 'status' | 'redeemed_grant_id' | 'redeemed_at' | 'created_at'>,
): Promise<void> {
  await tx
    .insertInto('delegation_offers')
    .values({ ...row, status: 'pending' })
    .execute();
}

export async function findOffer(db: DbOrTx, id: string): Promise<OfferRow | undefined> {
  return db.selectFrom('delegation_offers').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Takes a fan-out slot and reserves `budget` from the parent's pool in one guarded UPDATE per pool, so
 * concurrent offers can never overdraw it: the parent grant's reservation when it is itself delegated,
 * else the task's budget. Returns which limit refused, or null when reserved.
 */
export async function reserveForOffer(
  tx: Tx,
  q: { parent: GrantRow; budget: number; maxFanout: number },
): Promise<'max_fanout' | 'budget' | 'parent_inactive' | null> {
  const slot = await sql<{ id: string }>`
    update grants set children = children + 1,
      budget_spent = case when budget_reserved is null then budget_spent else budget_spent + ${q.budget} end
    where id = ${q.parent.id} and status = 'active' and children < ${q.maxFanout}
      and (budget_reserved is null or budget_spent + ${q.budget} <= budget_reserved)
    returning id`.execute(tx);
  if (slot.rows.length === 0) {
    const now = await tx
      .selectFrom('grants')
      .select(['status', 'children'])
      .where('id', '=', q.parent.id)
      .executeTakeFirstOrThrow();
    if (now.status !== 'active') return 'parent_inactive';
    return now.children >= q.maxFanout ? 'max_fanout' : 'budget';
  }
  if (q.parent.budget_reserved !== null || q.budget === 0) return null;
  const task = await sql<{ id: string }>`
    update tasks set budget_spent = budget_spent + ${q.budget}
    where id = ${q.parent.task_id} and status = 'open' and budget_spent + ${q.budget} <= budget
    returning id`.execute(tx);
  return task.rows.length ? null : 'budget';
}

/** Consumes the offer exactly once: only one of any number of concurrent redemptions updates the row. */
export async function consumeOffer(tx: Tx, q: { id: string; grantId: string; now: Date }): Promise<boolean> {
  const r = await tx
    .updateTable('delegation_offers')
    .set({ status: 'redeemed', redeemed_at: q.now, redeemed_grant_id: q.grantId })
    .where('id', '=', q.id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', q.now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
