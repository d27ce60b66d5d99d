import { sql } from 'kysely';
import type { DbOrTx, GrantRow, NewGrant, Tx } from '../db/database';

/** The only writer of the `grants` table: its state (status) and its budget columns. */

export interface RevokedGrant {
  id: string;
  parentId: string | null;
  previousStatus: 'pending' | 'active';
}

export async function insertGrant(tx: Tx, row: NewGrant): Promise<void> {
  await tx.insertInto('grants').values(row).execute();
}

export async function findGrant(db: DbOrTx, id: string): Promise<GrantRow | undefined> {
  return db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listGrantsOfTask(db: DbOrTx, taskId: string) {
  return db
    .selectFrom('grants')
    .select(['id', 'parent_id', 'holder', 'scopes', 'status', 'issued_at', 'expires_at', 'revoked_at'])
    .select('revoke_reason')
    .where('task_id', '=', taskId)
    .orderBy('issued_at')
    .execute();
}

/** pending → active; false when the grant was revoked meanwhile (its task closed while we minted). */
export async function activateGrant(tx: Tx, id: string, accessor: string): Promise<boolean> {
  const r = await tx
    .updateTable('grants')
    .set({ status: 'active', vault_token_accessor: accessor })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** pending → failed; the grant's reservation when this unit ended it, undefined when a close already did. */
export async function failGrant(tx: Tx, id: string, reason: string, now: Date) {
  return tx
    .updateTable('grants')
    .set({ status: 'failed', revoked_at: now, revoke_reason: reason })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returning(['id', 'task_id', 'cost', 'budget_reserved', 'offer_id'])
    .executeTakeFirst();
}

/** Grants still `pending` since before `cutoff`: a broker stopped between reservation and activation. */
export async function stalePendingGrants(db: DbOrTx, cutoff: Date, limit: number) {
  return db
    .selectFrom('grants')
    .select(['id', 'task_id'])
    .where('status', '=', 'pending')
    .where('issued_at', '<', cutoff)
    .limit(limit)
    .execute();
}

/** Tasks with active grants past their expiry (oldest first). */
export async function tasksWithExpiredGrants(db: DbOrTx, now: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ task_id: string }>`
    select task_id from grants where status = 'active' and expires_at <= ${now}
    order by expires_at limit ${limit}`.execute(db);
  return rows.rows.map((r) => r.task_id);
}

/** active → expired for the due grants of these (locked) tasks. */
export async function expireDueGrants(tx: Tx, taskIds: string[], now: Date) {
  const r = await sql<{ id: string; task_id: string }>`
    update grants set status = 'expired'
    where task_id = any(${taskIds}::uuid[]) and status = 'active' and expires_at <= ${now}
    returning id, task_id`.execute(tx);
  return r.rows;
}

/**
 * Marks live grants revoked: every one of the task, or one grant and its whole subtree. From the commit
 * of the caller's transaction on, introspection says inactive.
 */
export async function markRevoked(
  tx: Tx,
  q: { taskId: string; subtreeOf?: string; reason: string; now: Date },
): Promise<RevokedGrant[]> {
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
  return result.rows.map((r) => ({ id: r.id, parentId: r.parent_id, previousStatus: r.previous_status }));
}

// --- budget columns (the rules are in budget.ts) ---

/**
 * Takes a fan-out slot on an active parent and, when the parent is itself delegated, reserves `budget`
 * out of its own reservation, in one guarded UPDATE. False when a limit or the parent's state refused.
 */
export async function takeChildSlot(
  tx: Tx,
  q: { parentId: string; budget: number; maxFanout: number },
): Promise<boolean> {
  const slot = await sql<{ id: string }>`
    update grants set children = children + 1,
      budget_spent = case when budget_reserved is null then budget_spent else budget_spent + ${q.budget} end
    where id = ${q.parentId} and status = 'active' and children < ${q.maxFanout}
      and (budget_reserved is null or budget_spent + ${q.budget} <= budget_reserved)
    returning id`.execute(tx);
  return slot.rows.length === 1;
}

export async function childSlotState(tx: Tx, parentId: string) {
  return tx
    .selectFrom('grants')
    .select(['status', 'children'])
    .where('id', '=', parentId)
    .executeTakeFirstOrThrow();
}

/** The ended grants' reservation facts, deepest first. */
export async function reservationsOf(tx: Tx, ids: string[]) {
  return tx
    .selectFrom('grants')
    .select(['id', 'parent_id', 'budget_reserved', 'depth'])
    .where('id', 'in', ids)
    .orderBy('depth', 'desc')
    .execute();
}

export async function budgetSpentOf(tx: Tx, id: string): Promise<number> {
  const row = await tx
    .selectFrom('grants')
    .select('budget_spent')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.budget_spent;
}

/** An ended grant's reservation is settled: nothing more can be drawn from it or returned through it. */
export async function settleReservation(tx: Tx, id: string, reserved: number): Promise<void> {
  await tx.updateTable('grants').set({ budget_spent: reserved }).where('id', '=', id).execute();
}

/**
 * Gives `amount` back into a grant's own reservation when it is a live delegated grant (and frees a
 * fan-out slot when asked). Returns what the caller needs to pass the amount further up when it is not.
 */
export async function returnToGrant(
  tx: Tx,
  q: { grantId: string; amount: number; releaseChild: boolean },
): Promise<{ budget_reserved: number | null; status: string; parent_id: string | null }> {
  return tx
    .updateTable('grants')
    .set((eb) => ({
      budget_spent: sql`case when ${eb.ref('budget_reserved')} is null or ${eb.ref('status')} not in ('pending', 'active')
        then ${eb.ref('budget_spent')} else greatest(${eb.ref('budget_spent')} - ${q.amount}, 0) end`,
      children: q.releaseChild ? sql`greatest(${eb.ref('children')} - 1, 0)` : eb.ref('children'),
    }))
    .where('id', '=', q.grantId)
    .returning(['budget_reserved', 'status', 'parent_id'])
    .executeTakeFirstOrThrow();
}

// --- reads for other parts ---

/** The state introspection needs, in one round trip: the grant and whether its task is still open. */
export async function findGrantForIntrospection(db: DbOrTx, id: string) {
  return db
    .selectFrom('grants as g')
    .innerJoin('tasks as t', 't.id', 'g.task_id')
    .select([
      'g.id',
      'g.status',
      'g.expires_at',
      'g.holder',
      'g.chain',
      'g.task_id',
      'g.scopes',
      'g.cert_thumbprint',
      't.status as task_status',
      't.owner as task_owner',
    ])
    .where('g.id', '=', id)
    .executeTakeFirst();
}

/** Depth and delegation rights of grants (with their task's max depth): whose token is kept in custody. */
export async function custodyFacts(db: DbOrTx, q: { taskId: string } | { grantIds: string[] }) {
  let query = db
    .selectFrom('grants as g')
    .innerJoin('tasks as t', 't.id', 'g.task_id')
    .select(['g.id', 'g.depth', 'g.may_redelegate', 't.max_depth']);
  query = 'taskId' in q ? query.where('g.task_id', '=', q.taskId) : query.where('g.id', 'in', q.grantIds);
  return query.execute();
}
