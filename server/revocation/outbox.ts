import type { Tx } from '../db/database';
import { insertFeedEntries } from './feed.repository';
import {
  enqueueJob,
  expireLeasesOfGrants,
  insertLeases,
  insertLeasesStep,
  type TrackedHandle,
} from './revocation.repository';

/**
 * What the domains ask of revocation, inside their own unit of work: track what Vault minted, queue its
 * durable revocation (the outbox: jobs live in PostgreSQL and survive Vault and broker failures), and
 * publish revoked grant ids to the feed resource servers follow.
 */

export type { TrackedHandle };

export function trackHandles(
  tx: Tx,
  q: { taskId: string; grantId: string | null; handles: TrackedHandle[] },
): Promise<void> {
  return insertLeases(tx, q);
}

/** The same, as a step of a one-statement unit of work (the hot path: a grant token the moment it exists). */
export const trackHandlesStep = insertLeasesStep;

/** The whole token tree of a closing task: its task token first (Vault cascades), then every lease. */
export function queueTaskRevocation(
  tx: Tx,
  q: { taskId: string; taskTokenAccessor: string | null; finalStatus: 'closed' | 'expired'; now: Date },
): Promise<void> {
  return enqueueJob(tx, {
    taskId: q.taskId,
    kind: 'revoke_task',
    payload: { finalStatus: q.finalStatus, taskTokenAccessor: q.taskTokenAccessor },
    dueAt: q.now,
  });
}

/** The tokens and leases of some grants (a revoked subtree, or a grant that failed mid-mint). */
export function queueGrantRevocation(
  tx: Tx,
  q: { taskId: string; grantId: string; grantIds: string[]; now: Date },
): Promise<void> {
  return enqueueJob(tx, {
    taskId: q.taskId,
    grantId: q.grantId,
    kind: 'revoke_grants',
    payload: { grantIds: q.grantIds },
    dueAt: q.now,
  });
}

/** Revoked (or expired) grant ids, for the feed (`GET /v1/revocations`). */
export function publishRevoked(
  tx: Tx,
  q: { grants: Array<{ id: string; taskId: string }>; reason: string; now: Date },
): Promise<void> {
  return insertFeedEntries(
    tx,
    q.grants.map((g) => ({ grantId: g.id, taskId: g.taskId, reason: q.reason, at: q.now })),
  );
}

/** The leases of grants that expired on their own lapse with them in Vault. */
export const lapseLeasesOf = (tx: Tx, grantIds: string[], now: Date): Promise<void> =>
  expireLeasesOfGrants(tx, grantIds, now);
