import type { DomainUnitOfWork } from '../access/unit';
import type { Db } from '../db/database';
import { queueGrantRevocation } from '../revocation/outbox';
import { returnActionsToPool } from './actions';
import { releaseReservation, returnToPool } from './budget';
import { expireDueGrants, failGrant, stalePendingGrants, tasksWithExpiredGrants } from './grant.repository';
import { settleExpired } from './grant-revocation';
import { expireDueOffers, tasksWithExpiredOffers } from './offer.repository';

/** A grant still `pending` this long after its quota was reserved was abandoned mid-mint (a crash). */
const PENDING_GRACE_MS = 120_000;
const BATCH = 100;

interface ExpiryDeps {
  db: Db;
  uow: DomainUnitOfWork;
}

/**
 * Time-based transitions of grants and offers, safe to run from every broker at once: each unit locks
 * the tasks concerned (task row first), skipping tasks another unit holds until the next sweep.
 */
export function createGrantExpiry(deps: ExpiryDeps) {
  /** Expired grants stop counting against `max_active`, give back their budget, and lapse in the feed. */
  async function expireGrants(now: Date): Promise<number> {
    const due = await tasksWithExpiredGrants(deps.db, now, BATCH);
    if (due.length === 0) return 0;
    return deps.uow.run({ tasks: due }, async (w, locked) => {
      if (locked.length === 0) return 0;
      const expired = await expireDueGrants(w.tx, locked, now);
      if (expired.length) await settleExpired(w, expired);
      return expired.length;
    });
  }

  /** Offers nobody redeemed in time: their reservation and fan-out slot go back to the parent. */
  async function expireOffers(now: Date): Promise<number> {
    const due = await tasksWithExpiredOffers(deps.db, now, BATCH);
    if (due.length === 0) return 0;
    return deps.uow.run({ tasks: due }, async (w, locked) => {
      if (locked.length === 0) return 0;
      const offers = await expireDueOffers(w.tx, locked, now);
      for (const o of offers) {
        await returnToPool(w.tx, {
          taskId: o.task_id,
          parentId: o.parent_grant_id,
          amount: o.budget,
          releaseChild: true,
        });
        await returnActionsToPool(w.tx, {
          taskId: o.task_id,
          grantId: o.parent_grant_id,
          amount: o.actions ?? 0,
        });
      }
      w.audit(
        ...offers.map((o) => ({
          type: 'delegation.expired',
          taskId: o.task_id,
          grantId: o.parent_grant_id,
          principal: null,
          payload: { offer_id: o.id, budget_returned: o.budget, actions_returned: o.actions },
        })),
      );
      return offers.length;
    });
  }

  /** Grants a stopped broker left `pending`: they fail, give their reservation back, and Vault is cleaned. */
  async function failAbandoned(now: Date, onQueued: () => Promise<void> | void): Promise<number> {
    const cutoff = new Date(now.getTime() - PENDING_GRACE_MS);
    const stale = await stalePendingGrants(deps.db, cutoff, BATCH);
    for (const g of stale) {
      await deps.uow.run({ task: g.task_id }, async (w) => {
        const failed = await failGrant(w.tx, g.id, 'abandoned while minting', now);
        if (!failed) return;
        await releaseReservation(w.tx, failed);
        await queueGrantRevocation(w.tx, { taskId: g.task_id, grantId: g.id, grantIds: [g.id], now });
        w.afterCommit(onQueued);
        w.audit({
          type: 'grant.failed',
          taskId: g.task_id,
          grantId: g.id,
          principal: null,
          payload: {
            error: 'abandoned while minting (the broker stopped between reservation and activation)',
          },
        });
      });
    }
    return stale.length;
  }

  return { expireGrants, expireOffers, failAbandoned };
}

export type GrantExpiry = ReturnType<typeof createGrantExpiry>;
