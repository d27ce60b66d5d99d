import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, GrantRow, NewGrant, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';

/** The only writer of the `grants` table: its state (status) and its budget columns. */

export interface RevokedGrant {
  id: string;
  parentId: string | null;
  previousStatus: 'pending' | 'active';
}

export async function insertGrant(tx: Tx, row: NewGrant): Promise<void> {
  await tx.insertInto('grants').values(row).execute();
}

/** The insert as a step of a one-statement unit, made only when `when` holds; the row travels as one
 * JSON value typed by the table itself (json_populate_record). */
export function insertGrantStep(row: NewGrant, when: RawBuilder<boolean>): Cte {
  const columns = Object.keys(row)
    .filter((c) => row[c as keyof NewGrant] !== undefined)
    .map((c) => sql.ref(c));
  const constraints = typeof row.constraints === 'string' ? JSON.parse(row.constraints) : row.constraints;
  const json = JSON.stringify({ ...row, constraints });
  return cte(
    'grant_row',
    sql`insert into grants (${sql.join(columns)})
    select ${sql.join(columns)} from json_populate_record(null::grants, ${json}::json)
    where ${when}
    returning id`,
  );
}

/** pending → active as a step of a one-statement unit; no row when the grant is no longer pending. */
export function activateGrantStep(id: string, accessor: string): Cte {
  return cte(
    'grant_active',
    sql`update grants set status = 'active', vault_token_accessor = ${accessor}
    where id = ${id} and status = 'pending' returning id`,
  );
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

/** The ended grants' reservation facts (budget and actions), deepest first. */
export async function reservationsOf(tx: Tx, ids: string[]) {
  return tx
    .selectFrom('grants')
    .select(['id', 'parent_id', 'budget_reserved', 'depth', 'actions_reserved'])
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

// --- action columns (the rules are in actions.ts) ---

/** The action pool a grant draws on: itself or its nearest ancestor with a reserved share (else none). */
export async function actionPoolOf(tx: Tx, grantId: string) {
  const r = await sql<{ id: string; actions_reserved: number; actions_spent: number }>`
    with recursive up as (
      select id, parent_id, actions_reserved, actions_spent, 0 as hops from grants where id = ${grantId}
      union all
      select g.id, g.parent_id, g.actions_reserved, g.actions_spent, up.hops + 1
      from grants g join up on g.id = up.parent_id where up.actions_reserved is null)
    select id, actions_reserved, actions_spent from up where actions_reserved is not null
    order by hops limit 1`.execute(tx);
  return r.rows[0];
}

/** Draws `amount` from a grant's reserved share; false when it has less than that left. */
export async function drawGrantActions(tx: Tx, poolId: string, amount: number): Promise<boolean> {
  const r = await sql<{ id: string }>`
    update grants set actions_spent = actions_spent + ${amount}
    where id = ${poolId} and actions_reserved is not null and actions_spent + ${amount} <= actions_reserved
    returning id`.execute(tx);
  return r.rows.length === 1;
}

/** What a grant's own calls cost, for its lineage. */
export async function addActionsUsed(tx: Tx, grantId: string, amount: number): Promise<void> {
  await sql`update grants set actions_used = actions_used + ${amount} where id = ${grantId}`.execute(tx);
}

/** An ended grant's share is settled (nothing more drawn from or returned through it); returns its unspent part. */
export async function settleActions(tx: Tx, id: string): Promise<number> {
  const r = await sql<{ unspent: number }>`
    update grants g set actions_spent = g.actions_reserved from grants old
    where g.id = ${id} and old.id = g.id and g.actions_reserved is not null
    returning old.actions_reserved - old.actions_spent as unspent`.execute(tx);
  return Math.max(0, r.rows[0]?.unspent ?? 0);
}

/** Gives `amount` back into a live grant's reserved share; tells the caller where to pass it otherwise. */
export async function returnActionsToGrant(tx: Tx, q: { grantId: string; amount: number }) {
  return tx
    .updateTable('grants')
    .set((eb) => ({
      actions_spent: sql`case when ${eb.ref('actions_reserved')} is null or ${eb.ref('status')} not in ('pending', 'active')
        then ${eb.ref('actions_spent')} else greatest(${eb.ref('actions_spent')} - ${q.amount}, 0) end`,
    }))
    .where('id', '=', q.grantId)
    .returning(['actions_reserved', 'status', 'parent_id'])
    .executeTakeFirstOrThrow();
}

/** The live grants requested directly on the task (the roots of its delegation trees). */
export async function liveRootGrants(tx: Tx, taskId: string): Promise<string[]> {
  const rows = await tx
    .selectFrom('grants')
    .select('id')
    .where('task_id', '=', taskId)
    .where('parent_id', 'is', null)
    .where('status', 'in', ['pending', 'active'])
    .execute();
  return rows.map((r) => r.id);
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
