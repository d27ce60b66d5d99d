import type { DomainWork } from '../access/unit';
import type { AuditEventInput } from '../audit/audit.types';
import { lapseLeasesOf, publishRevoked, queueGrantRevocation } from '../revocation/outbox';
import { releaseActive } from '../tasks';
import { returnActions } from './actions';
import { returnBudgets } from './budget';
import { markRevoked, type RevokedGrant } from './grant.repository';
import { revokePendingOffersOfTask } from './offer.repository';

type W = DomainWork;

function revokedEvents(
  revoked: RevokedGrant[],
  q: { taskId: string; reason: string; principal: string | null; subtreeOf?: string },
): AuditEventInput[] {
  return revoked.map((g) => ({
    type: 'grant.revoked',
    taskId: q.taskId,
    grantId: g.id,
    principal: q.principal,
    payload: {
      reason: q.reason,
      previous_status: g.previousStatus,
      ...(q.subtreeOf ? { subtree_of: q.subtreeOf } : {}),
    },
  }));
}

/**
 * Revokes one grant and its whole delegation subtree in the broker at once: introspection says inactive
 * from commit on, the feed names every grant, their hold on `max_active` and their unspent budget go
 * back, and the durable Vault revocation of their tokens and leases is queued. The unit holds the task row.
 */
export async function revokeSubtree(
  w: W,
  q: { taskId: string; grantId: string; reason: string; principal: string | null },
): Promise<RevokedGrant[]> {
  const revoked = await markRevoked(w.tx, { ...q, subtreeOf: q.grantId, now: w.now });
  if (revoked.length === 0) return revoked;
  const ids = revoked.map((g) => g.id);
  await publishRevoked(w.tx, {
    grants: ids.map((id) => ({ id, taskId: q.taskId })),
    reason: q.reason,
    now: w.now,
  });
  // Actions first: their return reads the pending offers that returning the budget revokes.
  await returnActions(w.tx, { taskId: q.taskId, grantIds: ids });
  await returnBudgets(w.tx, { taskId: q.taskId, grantIds: ids });
  await releaseActive(w.tx, q.taskId, revoked.length);
  await queueGrantRevocation(w.tx, { taskId: q.taskId, grantId: q.grantId, grantIds: ids, now: w.now });
  w.audit(...revokedEvents(revoked, { ...q, subtreeOf: q.grantId }));
  return revoked;
}

/** Every live grant and pending offer of a closing task (its Vault tree is revoked as one job by the caller). */
export async function revokeAllOfTask(
  w: W,
  q: { taskId: string; reason: string; principal: string | null },
): Promise<number> {
  const revoked = await markRevoked(w.tx, { taskId: q.taskId, reason: q.reason, now: w.now });
  await publishRevoked(w.tx, {
    grants: revoked.map((g) => ({ id: g.id, taskId: q.taskId })),
    reason: q.reason,
    now: w.now,
  });
  await revokePendingOffersOfTask(w.tx, q.taskId);
  w.audit(...revokedEvents(revoked, q));
  return revoked.length;
}

/** Grants that expired on their own: out of the active count, budget back, leases lapsed, in the feed. */
export async function settleExpired(w: W, expired: Array<{ id: string; task_id: string }>): Promise<void> {
  const byTask = new Map<string, string[]>();
  for (const g of expired) byTask.set(g.task_id, [...(byTask.get(g.task_id) ?? []), g.id]);
  for (const [taskId, ids] of byTask) {
    await releaseActive(w.tx, taskId, ids.length);
    await returnActions(w.tx, { taskId, grantIds: ids });
    await returnBudgets(w.tx, { taskId, grantIds: ids });
  }
  await lapseLeasesOf(
    w.tx,
    expired.map((g) => g.id),
    w.now,
  );
  await publishRevoked(w.tx, {
    grants: expired.map((g) => ({ id: g.id, taskId: g.task_id })),
    reason: 'expired',
    now: w.now,
  });
  w.audit(
    ...expired.map((g) => ({
      type: 'grant.expired',
      taskId: g.task_id,
      grantId: g.id,
      principal: null,
      payload: {},
    })),
  );
}
