import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, GrantRow, OfferRow, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';

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

/** The offer a delegation token names and the grant that made it, in one round trip. */
export async function findOfferWithParent(
  db: DbOrTx,
  id: string,
): Promise<{ offer: OfferRow; parent: GrantRow } | undefined> {
  const r = await sql<{ offer: OfferRow; parent: GrantRow }>`
    select to_jsonb(o) as offer, to_jsonb(g) as parent
    from delegation_offers o join grants g on g.id = o.parent_grant_id where o.id = ${id}`.execute(db);
  const row = r.rows[0];
  return row && { offer: revive(row.offer), parent: revive(row.parent) };
}

/** to_jsonb gives timestamps as text: the rows as the driver would have returned them. */
function revive<T extends object>(row: T): T {
  const out = { ...row } as Record<string, unknown>;
  for (const k of ['created_at', 'expires_at', 'redeemed_at', 'issued_at', 'revoked_at'])
    if (typeof out[k] === 'string') out[k] = new Date(out[k] as string);
  return out as T;
}

/**
 * Consumes the offer exactly once (`offer_used`, a step of the grant's reservation, when `when` holds):
 * only one of any number of concurrent redemptions updates the row.
 */
export function consumeOfferStep(
  q: { id: string; grantId: string; now: Date },
  when: RawBuilder<boolean>,
): Cte {
  return cte(
    'offer_used',
    sql`update delegation_offers set status = 'redeemed', redeemed_at = ${q.now}, redeemed_grant_id = ${q.grantId}
      where id = ${q.id} and status = 'pending' and expires_at > ${q.now} and ${when} returning id`,
  );
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
  const r = await sql<{ id: string; task_id: string; parent_grant_id: string; budget: number }>`
    update delegation_offers set status = 'expired'
    where task_id = any(${taskIds}::uuid[]) and status = 'pending' and expires_at <= ${now}
    returning id, task_id, parent_grant_id, budget`.execute(tx);
  return r.rows;
}
