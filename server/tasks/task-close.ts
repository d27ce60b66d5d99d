import type { DomainWork } from '../access/unit';
import type { TaskRow } from '../db/database';
import { queueTaskRevocation } from '../revocation/outbox';
import { markClosing, markFinished } from './task.repository';

/**
 * What closing a task asks of the grants domain, which sits above tasks and is handed in at composition
 * (tasks never import grants): revoke every live grant and pending offer of the task in this unit.
 */
export interface GrantsOfTask {
  revokeAll(w: DomainWork, q: { taskId: string; reason: string; principal: string | null }): Promise<number>;
}

/**
 * Close (and expiry) in one unit holding the task row: the task becomes `closing`, every grant is
 * revoked, pending offers die, and one durable job is queued to revoke the task token and every tracked
 * lease in Vault. The job lives in PostgreSQL, so close survives Vault being down or the broker killed.
 */
export async function closeTask(
  w: DomainWork,
  task: TaskRow,
  q: {
    reason: string;
    principal: string | null;
    finalStatus: 'closed' | 'expired';
    grants: GrantsOfTask;
    /** Vault minted nothing for the task (its open failed before any token): closed at once, no job. */
    nothingMinted?: boolean;
  },
): Promise<void> {
  const revoked = await q.grants.revokeAll(w, { taskId: task.id, reason: q.reason, principal: q.principal });
  await markClosing(w.tx, task.id, { now: w.now, reason: q.reason });
  if (q.nothingMinted) await markFinished(w.tx, task.id, { status: q.finalStatus, now: w.now });
  else
    await queueTaskRevocation(w.tx, {
      taskId: task.id,
      taskTokenAccessor: task.vault_token_accessor,
      finalStatus: q.finalStatus,
      now: w.now,
    });
  w.audit({
    type: q.finalStatus === 'expired' ? 'task.expired' : 'task.closing',
    taskId: task.id,
    principal: q.principal,
    payload: {
      reason: q.reason,
      grants_revoked: revoked,
      ...(q.nothingMinted ? { nothing_minted: true } : {}),
    },
  });
}

/** Everything issued for the task is confirmed revoked: closing → closed (or expired). */
export function finishClose(w: DomainWork, taskId: string, status: 'closed' | 'expired'): Promise<void> {
  return markFinished(w.tx, taskId, { status, now: w.now });
}
