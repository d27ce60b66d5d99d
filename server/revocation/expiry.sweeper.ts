import { sql } from 'kysely';
import { appendAuditEvents } from '../audit/audit.service';
import type { Db, Tx } from '../db/database';
import { lockTaskRow, lockTaskRows } from '../db/locks';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { returnBudgets, returnToPool } from './budget-return';
import { releaseReservation } from './release-reservation';
import { enqueueJob } from './revocation.repository';
import { closeTaskInTx } from './revoke-in-tx';

/** A grant still `pending` this long after its quota was reserved was abandoned mid-mint (a crash). */
const PENDING_GRACE_MS = 120_000;
const BATCH = 100;

/**
 * Locks (task row first, as db/locks.ts orders) the tasks that have rows of `table` in `status` due at
 * `now`; rows of tasks locked elsewhere wait for the next sweep.
 */
async function lockTasksWithDue(
  tx: Tx,
  table: 'grants' | 'delegation_offers',
  status: 'active' | 'pending',
  now: Date,
) {
  const due = await sql<{ task_id: string }>`
    select task_id from ${sql.table(table)} where status = ${status} and expires_at <= ${now}
    order by expires_at limit ${BATCH}`.execute(tx);
  return lockTaskRows(
    tx,
    due.rows.map((r) => r.task_id),
  );
}

export interface SweeperDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Called after the sweep queued revocation work, so the worker can start at once. */
  onWork?: () => void;
}

/**
 * Time-based transitions, safe to run from every broker at once (row locks, SKIP LOCKED): expired tasks
 * close through the same path as an explicit close; expired grants stop counting against `max_active`;
 * grants abandoned mid-mint fail and give their reservation back.
 */
export function createExpirySweeper(deps: SweeperDeps) {
  const log = deps.logger.child({ module: 'sweeper' });

  async function expireTasks(now: Date): Promise<number> {
    let closed = 0;
    for (;;) {
      const n = await deps.db.transaction().execute(async (tx) => {
        const tasks = await tx
          .selectFrom('tasks')
          .selectAll()
          .where('status', '=', 'open')
          .where('expires_at', '<=', now)
          .limit(1)
          .forNoKeyUpdate()
          .skipLocked()
          .execute();
        for (const task of tasks) {
          await closeTaskInTx(tx, task, {
            reason: 'task ttl expired',
            now,
            principal: null,
            finalStatus: 'expired',
          });
        }
        return tasks.length;
      });
      closed += n;
      if (n === 0) return closed;
    }
  }

  async function expireGrants(now: Date): Promise<number> {
    return deps.db.transaction().execute(async (tx) => {
      const taskIds = await lockTasksWithDue(tx, 'grants', 'active', now);
      if (taskIds.length === 0) return 0;
      const expired = await sql<{ id: string; task_id: string }>`
        update grants set status = 'expired'
        where task_id = any(${taskIds}::uuid[]) and status = 'active' and expires_at <= ${now}
        returning id, task_id`.execute(tx);
      if (expired.rows.length === 0) return 0;
      const perTask = new Map<string, number>();
      for (const g of expired.rows) perTask.set(g.task_id, (perTask.get(g.task_id) ?? 0) + 1);
      for (const [taskId, n] of perTask) {
        await tx
          .updateTable('tasks')
          .set((eb) => ({ active_grants: sql`greatest(${eb.ref('active_grants')} - ${n}, 0)` }))
          .where('id', '=', taskId)
          .where('status', '=', 'open')
          .execute();
      }
      const ids = expired.rows.map((g) => g.id);
      for (const [taskId] of perTask)
        await returnBudgets(tx, {
          taskId,
          grantIds: expired.rows.filter((g) => g.task_id === taskId).map((g) => g.id),
        });
      await tx
        .updateTable('leases')
        .set({ state: 'expired', revoked_at: now })
        .where('grant_id', 'in', ids)
        .where('state', '=', 'active')
        .execute();
      await tx
        .insertInto('revocation_feed')
        .values(
          expired.rows.map((g) => ({
            grant_id: g.id,
            task_id: g.task_id,
            reason: 'expired',
            revoked_at: now,
          })),
        )
        .execute();
      await appendAuditEvents(
        tx,
        expired.rows.map((g) => ({
          type: 'grant.expired',
          taskId: g.task_id,
          grantId: g.id,
          principal: null,
          payload: {},
        })),
        { now: () => now },
      );
      return expired.rows.length;
    });
  }

  /** Offers nobody redeemed in time: their reservation and fan-out slot go back to the parent. */
  async function expireOffers(now: Date): Promise<number> {
    return deps.db.transaction().execute(async (tx) => {
      const taskIds = await lockTasksWithDue(tx, 'delegation_offers', 'pending', now);
      if (taskIds.length === 0) return 0;
      const offers = await sql<{ id: string; task_id: string; parent_grant_id: string; budget: number }>`
        update delegation_offers set status = 'expired'
        where task_id = any(${taskIds}::uuid[]) and status = 'pending' and expires_at <= ${now}
        returning id, task_id, parent_grant_id, budget`.execute(tx);
      for (const o of offers.rows) await returnToPool(tx, o.task_id, o.parent_grant_id, o.budget, true);
      if (offers.rows.length) {
        await appendAuditEvents(
          tx,
          offers.rows.map((o) => ({
            type: 'delegation.expired',
            taskId: o.task_id,
            grantId: o.parent_grant_id,
            principal: null,
            payload: { offer_id: o.id, budget_returned: o.budget },
          })),
          { now: () => now },
        );
      }
      return offers.rows.length;
    });
  }

  async function failAbandoned(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - PENDING_GRACE_MS);
    const stale = await deps.db
      .selectFrom('grants')
      .select(['id', 'task_id'])
      .where('status', '=', 'pending')
      .where('issued_at', '<', cutoff)
      .limit(BATCH)
      .execute();
    for (const g of stale) {
      await deps.db.transaction().execute(async (tx) => {
        await lockTaskRow(tx, g.task_id);
        const failed = await tx
          .updateTable('grants')
          .set({ status: 'failed', revoked_at: now, revoke_reason: 'abandoned while minting' })
          .where('id', '=', g.id)
          .where('status', '=', 'pending')
          .returning(['id', 'task_id', 'cost', 'budget_reserved', 'offer_id'])
          .executeTakeFirst();
        if (!failed) return;
        await releaseReservation(tx, failed);
        await enqueueJob(tx, {
          taskId: g.task_id,
          grantId: g.id,
          kind: 'revoke_grants',
          payload: { grantIds: [g.id] },
          dueAt: now,
        });
        await appendAuditEvents(
          tx,
          [
            {
              type: 'grant.failed',
              taskId: g.task_id,
              grantId: g.id,
              principal: null,
              payload: {
                error: 'abandoned while minting (the broker stopped between reservation and activation)',
              },
            },
          ],
          { now: () => now },
        );
      });
    }
    return stale.length;
  }

  return {
    async sweepOnce(): Promise<{ tasks: number; grants: number; abandoned: number; offers: number }> {
      const now = deps.clock.now();
      const tasks = await expireTasks(now);
      const offers = await expireOffers(now);
      const grants = await expireGrants(now);
      const abandoned = await failAbandoned(now);
      if (tasks || abandoned) deps.onWork?.();
      if (tasks || grants || abandoned || offers)
        log.info({ tasks, grants, abandoned, offers }, 'expiry sweep');
      return { tasks, grants, abandoned, offers };
    },
  };
}

export type ExpirySweeper = ReturnType<typeof createExpirySweeper>;
