import { sql } from 'kysely';
import type { DbOrTx, OfferRow, Tx } from '../db/database';

/** The only writer of the `delegation_offers` table. */

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

/** A redemption whose grant was never issued makes the offer redeemable again (until it expires). */
export async function reopenOffer(tx: Tx, q: { offerId: string; grantId: string }): Promise<void> {
  await tx
    .updateTable('delegation_offers')
    .set({ status: 'pending', redeemed_at: null, redeemed_grant_id: null })
    .where('id', '=', q.offerId)
    .where('redeemed_grant_id', '=', q.grantId)
    .execute();
}

/** Pending offers of a grant that ended die with it; returns their reservations. */
export async function revokePendingOffersOf(tx: Tx, grantId: string): Promise<number[]> {
  const rows = await tx
    .updateTable('delegation_offers')
    .set({ status: 'revoked' })
    .where('parent_grant_id', '=', grantId)
    .where('status', '=', 'pending')
    .returning(['budget'])
    .execute();
  return rows.map((r) => r.budget);
}

/** The action shares still held by a grant's pending offers (read before they are revoked with it). */
export async function pendingOfferActionsOf(tx: Tx, grantId: string): Promise<number[]> {
  const rows = await tx
    .selectFrom('delegation_offers')
    .select('actions')
    .where('parent_grant_id', '=', grantId)
    .where('status', '=', 'pending')
    .where('actions', 'is not', null)
    .execute();
  return rows.map((r) => r.actions ?? 0);
}

/** Every pending offer of a closing task dies with it (the task's budget is gone with the task). */
export async function revokePendingOffersOfTask(tx: Tx, taskId: string): Promise<void> {
  await tx
    .updateTable('delegation_offers')
    .set({ status: 'revoked' })
    .where('task_id', '=', taskId)
    .where('status', '=', 'pending')
    .execute();
}

export async function tasksWithExpiredOffers(db: DbOrTx, now: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ task_id: string }>`
    select task_id from delegation_offers where status = 'pending' and expires_at <= ${now}
    order by expires_at limit ${limit}`.execute(db);
  return rows.rows.map((r) => r.task_id);
}

/** pending → expired for the due offers of these (locked) tasks. */
export async function expireDueOffers(tx: Tx, taskIds: string[], now: Date) {
  const r = await sql<{
    id: string;
    task_id: string;
    parent_grant_id: string;
    budget: number;
    actions: number | null;
  }>`
    update delegation_offers set status = 'expired'
    where task_id = any(${taskIds}::uuid[]) and status = 'pending' and expires_at <= ${now}
    returning id, task_id, parent_grant_id, budget, actions`.execute(tx);
  return r.rows;
}
