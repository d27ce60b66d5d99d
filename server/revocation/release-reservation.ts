import { sql } from 'kysely';
import type { Tx } from '../db/database';

export interface Reservation {
  id: string;
  task_id: string;
  cost: number;
  budget_reserved: number | null;
  offer_id: string | null;
}

/**
 * Gives back everything a grant that was never issued took at reservation: its `max_grants` and
 * `max_active` slots, a direct grant's cost from the task budget (a delegated grant's cost came out of
 * its offer's reservation, which goes back with the offer), the redeemed offer (redeemable again until
 * it expires) and any single-use approval it consumed. Used when minting fails and when a broker died
 * between reservation and activation.
 */
export async function releaseReservation(tx: Tx, g: Reservation): Promise<void> {
  const cost = g.budget_reserved === null ? g.cost : 0;
  await sql`
    update tasks set grants_issued = greatest(grants_issued - 1, 0), active_grants = greatest(active_grants - 1, 0),
      budget_spent = greatest(budget_spent - ${cost}, 0)
    where id = ${g.task_id} and status = 'open'`.execute(tx);
  if (g.offer_id) {
    await tx
      .updateTable('delegation_offers')
      .set({ status: 'pending', redeemed_at: null, redeemed_grant_id: null })
      .where('id', '=', g.offer_id)
      .where('redeemed_grant_id', '=', g.id)
      .execute();
  }
  await tx
    .updateTable('approvals')
    .set({ used_at: null, used_by_grant: null })
    .where('used_by_grant', '=', g.id)
    .execute();
}
