import { sql } from 'kysely';
import type { DbOrTx, Tx } from '../db/database';

/** The only writer of `revocation_feed`: revoked grant ids, numbered in commit order for resource servers. */

export async function insertFeedEntries(
  tx: Tx,
  rows: Array<{ grantId: string; taskId: string; reason: string; at: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  // One statement of four array parameters, whatever the count (closing a task of 10,000 grants): a
  // multi-row VALUES would be 40,000 parameters to build, send and parse. Ids follow the input order.
  const col = <T>(pick: (r: (typeof rows)[number]) => T) => rows.map(pick);
  await sql`
    insert into revocation_feed (grant_id, task_id, reason, revoked_at)
    select grant_id, task_id, reason, revoked_at from unnest(
      ${col((r) => r.grantId)}::uuid[], ${col((r) => r.taskId)}::uuid[], ${col((r) => r.reason)}::text[],
      ${col((r) => r.at.toISOString())}::timestamptz[]
    ) with ordinality as f(grant_id, task_id, reason, revoked_at, n)
    order by n`.execute(tx);
}

/** Sequenced feed entries after `after`, in commit order. */
export async function feedAfter(db: DbOrTx, q: { after: number; limit: number; taskId?: string }) {
  let query = db
    .selectFrom('revocation_feed')
    .select(['seq', 'grant_id', 'task_id', 'reason', 'revoked_at'])
    .where('seq', 'is not', null)
    .where('seq', '>', String(q.after))
    .orderBy('seq')
    .limit(q.limit);
  if (q.taskId) query = query.where('task_id', '=', q.taskId);
  return query.execute() as Promise<
    Array<{ seq: string; grant_id: string; task_id: string; reason: string; revoked_at: Date }>
  >;
}

export async function hasUnsequencedFeed(db: DbOrTx): Promise<boolean> {
  const row = await db
    .selectFrom('revocation_feed')
    .select('id')
    .where('seq', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Gives every committed, unsequenced feed entry the next numbers, in insert order, while holding the
 * feed's transaction-scoped advisory lock (taken by the caller): sequencing runs one at a time, so the
 * numbers readers see only ever grow, and an entry is numbered only once its transaction has committed.
 */
export async function sequenceFeedEntries(tx: Tx, max: number): Promise<number> {
  const r = await sql<{ seq: string }>`
    with base as (select coalesce(max(seq), 0) as m from revocation_feed),
    todo as (
      select id, row_number() over (order by id) as rn
      from (select id from revocation_feed where seq is null order by id limit ${max}) pending)
    update revocation_feed f set seq = base.m + todo.rn
    from base, todo where f.id = todo.id
    returning f.seq`.execute(tx);
  return r.rows.length;
}

/** A transaction-scoped advisory lock: false when another transaction holds it. */
export async function tryTransactionLock(tx: Tx, key: bigint): Promise<boolean> {
  const r = await sql<{
    got: boolean;
  }>`select pg_try_advisory_xact_lock(${key.toString()}::bigint) as got`.execute(tx);
  return r.rows[0]?.got === true;
}
