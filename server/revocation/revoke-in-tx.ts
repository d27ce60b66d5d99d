import { sql } from 'kysely';
import { appendAuditEvents } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit.types';
import type { TaskRow, Tx } from '../db/database';
import { lockTaskRow } from '../db/locks';
import { returnBudgets } from './budget-return';
import { enqueueJob } from './revocation.repository';

export interface RevokedGrant {
  id: string;
  parentId: string | null;
  previousStatus: 'pending' | 'active';
}

const fixedClock = (now: Date) => ({ now: () => now });

/**
 * Marks grants revoked (with their whole subtrees when `subtreeOf` is given) and records each in the
 * revocation feed. From this transaction's commit on, introspection says inactive. The caller appends
 * the returned audit events last (see db/locks.ts for the lock order).
 */
async function markRevoked(
  tx: Tx,
  q: { taskId: string; subtreeOf?: string; reason: string; now: Date; principal: string | null },
): Promise<{ revoked: RevokedGrant[]; events: AuditEventInput[] }> {
  const scope = q.subtreeOf
    ? sql`select id from (with recursive sub as (
          select id from grants where id = ${q.subtreeOf} and task_id = ${q.taskId}
          union all select g.id from grants g join sub on g.parent_id = sub.id) select id from sub) s`
    : sql`select id from grants where task_id = ${q.taskId}`;
  const result = await sql<{ id: string; parent_id: string | null; previous_status: 'pending' | 'active' }>`
    with victims as (
      select id, status from grants
      where id in (${scope}) and status in ('pending', 'active')
      for no key update)
    update grants g set status = 'revoked', revoked_at = ${q.now}, revoke_reason = ${q.reason}
    from victims v where g.id = v.id
    returning g.id, g.parent_id, v.status as previous_status`.execute(tx);
  const revoked = result.rows.map((r) => ({
    id: r.id,
    parentId: r.parent_id,
    previousStatus: r.previous_status,
  }));
  if (revoked.length === 0) return { revoked, events: [] };
  await tx
    .insertInto('revocation_feed')
    .values(revoked.map((g) => ({ grant_id: g.id, task_id: q.taskId, reason: q.reason, revoked_at: q.now })))
    .execute();
  const events = revoked.map((g) => ({
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
  return { revoked, events };
}

/**
 * Close (and expiry) in one transaction: the task becomes `closing`, every grant is revoked, pending
 * delegation offers die, and one durable job is queued to revoke the task token and every tracked lease
 * in Vault. The job lives in PostgreSQL, so close survives Vault being down or the broker being killed.
 */
export async function closeTaskInTx(
  tx: Tx,
  task: TaskRow,
  opts: { reason: string; now: Date; principal: string | null; finalStatus: 'closed' | 'expired' },
): Promise<RevokedGrant[]> {
  // The caller holds the task row lock (it read the task FOR NO KEY UPDATE to see it still open).
  const { revoked, events } = await markRevoked(tx, {
    taskId: task.id,
    reason: opts.reason,
    now: opts.now,
    principal: opts.principal,
  });
  await tx
    .updateTable('tasks')
    .set({ status: 'closing', closing_at: opts.now, close_reason: opts.reason, active_grants: 0 })
    .where('id', '=', task.id)
    .execute();
  await tx
    .updateTable('delegation_offers')
    .set({ status: 'revoked' })
    .where('task_id', '=', task.id)
    .where('status', '=', 'pending')
    .execute();
  await enqueueJob(tx, {
    taskId: task.id,
    kind: 'revoke_task',
    payload: { finalStatus: opts.finalStatus, taskTokenAccessor: task.vault_token_accessor },
    dueAt: opts.now,
  });
  await appendAuditEvents(
    tx,
    [
      ...events,
      {
        type: opts.finalStatus === 'expired' ? 'task.expired' : 'task.closing',
        taskId: task.id,
        principal: opts.principal,
        payload: { reason: opts.reason, grants_revoked: revoked.length },
      },
    ],
    fixedClock(opts.now),
  );
  return revoked;
}

/**
 * Revokes one grant and its whole delegation subtree in the broker at once, releases their hold on the
 * task's `max_active`, returns their unspent budget up the chain, and queues the durable Vault revocation of their tokens and leases.
 */
export async function revokeGrantSubtreeInTx(
  tx: Tx,
  q: { taskId: string; grantId: string; reason: string; now: Date; principal: string | null },
): Promise<RevokedGrant[]> {
  await lockTaskRow(tx, q.taskId);
  const { revoked, events } = await markRevoked(tx, { ...q, subtreeOf: q.grantId });
  if (revoked.length === 0) return revoked;
  await returnBudgets(tx, { taskId: q.taskId, grantIds: revoked.map((g) => g.id) });
  await tx
    .updateTable('tasks')
    .set((eb) => ({ active_grants: eb('active_grants', '-', revoked.length) }))
    .where('id', '=', q.taskId)
    .execute();
  await enqueueJob(tx, {
    taskId: q.taskId,
    grantId: q.grantId,
    kind: 'revoke_grants',
    payload: { grantIds: revoked.map((g) => g.id) },
    dueAt: q.now,
  });
  await appendAuditEvents(tx, events, fixedClock(q.now));
  return revoked;
}
