import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, Tx } from '../db/database';
import type { AuditEvent } from './audit.types';
import { type LegacyRow, leafFromBody, leafFromLegacy } from './audit-leaf';

/** One validated event ready to insert: its canonical payload and its canonical body. */
export interface NewEventRow {
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  payloadJson: string;
  body: string;
}

/**
 * Inserts events in ONE statement, in order. Nothing shared is locked: `seq` comes from a sequence and
 * `tx` (the inserting transaction's xid8) from the column default, so concurrent appenders never wait
 * for each other; the sequencer orders them after commit. The returned events are in input order.
 */
export async function insertEvents(tx: Tx, rows: readonly NewEventRow[]): Promise<AuditEvent[]> {
  if (rows.length === 0) return [];
  const seqs = rows.length === 1 ? [await insertOne(tx, rows[0]!)] : await insertMany(tx, rows);
  return rows.map((r, i) => ({
    seq: seqs[i]!,
    at: r.at,
    type: r.type,
    taskId: r.taskId,
    grantId: r.grantId,
    principal: r.principal,
    payload: JSON.parse(r.payloadJson) as Record<string, unknown>,
  }));
}

/** The hot path (one event per grant transaction): a plain insert, cheap to parse and plan. */
async function insertOne(tx: Tx, r: NewEventRow): Promise<number> {
  const result = await sql<{ seq: string }>`
    insert into audit_events (at, type, task_id, grant_id, principal, payload, body)
    values (${r.at.toISOString()}::timestamptz, ${r.type}, ${r.taskId}::uuid, ${r.grantId}::uuid, ${r.principal},
      ${r.payloadJson}::jsonb, ${r.body})
    returning seq`.execute(tx);
  return Number(result.rows[0]!.seq);
}

/**
 * Events handed over as one JSON array of rows, in input order: JSON.stringify is native, where seven
 * bind arrays cost an array-literal escape per element (bodies are mostly quotes), which was the largest
 * cost of a batched append. Each payload goes in as its canonical text, like the single insert.
 */
function insertFromJsonRows(
  rows: readonly NewEventRow[],
  when: RawBuilder<boolean>,
): RawBuilder<{ seq: string }> {
  const json = JSON.stringify(
    rows.map((r) => ({
      at: r.at.toISOString(),
      type: r.type,
      task_id: r.taskId,
      grant_id: r.grantId,
      principal: r.principal,
      payload: r.payloadJson,
      body: r.body,
    })),
  );
  return sql<{ seq: string }>`
    insert into audit_events (at, type, task_id, grant_id, principal, payload, body)
    select at, type, task_id, grant_id, principal, payload::jsonb, body
    from rows from (json_to_recordset(${json}::json) as (at timestamptz, type text, task_id uuid,
      grant_id uuid, principal text, payload text, body text)) with ordinality
      as i(at, type, task_id, grant_id, principal, payload, body, n)
    where ${when}
    order by n
    returning seq`;
}

/** Many events in one statement. */
async function insertMany(tx: Tx, rows: readonly NewEventRow[]): Promise<number[]> {
  const result = await insertFromJsonRows(rows, sql<boolean>`true`).execute(tx);
  // nextval is taken row by row in the order the sorted input reaches the insert.
  return result.rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
}

/**
 * The same insert as a step of a one-statement unit of work (db/one-statement.ts): made only when `when`
 * holds (the state change it records happened in the same statement), in order, nothing shared locked.
 */
export function insertEventsWhen(
  rows: readonly NewEventRow[],
  when: RawBuilder<boolean>,
): RawBuilder<unknown> {
  return insertFromJsonRows(rows, when);
}

/** A sequenced event as stored: its leaf index, and either its body or its legacy chain fields. */
export interface LeafRow {
  leaf_index: string;
  body: string | null;
  seq: string;
  at: Date;
  type: string;
  task_id: string | null;
  grant_id: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
  prev_hash: string | null;
  hash: string | null;
}

/** The exact leaf text of a stored event. */
export function leafTextOf(row: LeafRow): string {
  const index = Number(row.leaf_index);
  if (row.body !== null) return leafFromBody(row.body, index);
  return leafFromLegacy(
    { ...row, seq: Number(row.seq), prev_hash: row.prev_hash ?? '', hash: row.hash ?? '' } as LegacyRow,
    index,
  );
}

export interface AuditFilter {
  taskId?: string;
  grantId?: string;
  principal?: string;
  afterLeaf: number;
  limit: number;
}

const LEAF_COLUMNS = sql`l.leaf_index, e.body, e.seq, e.at, e.type, e.task_id, e.grant_id, e.principal,
  e.payload, e.prev_hash, e.hash`;

/** Sequenced events matching every filter, ascending by leaf index, after `afterLeaf`. */
export async function findLeafRows(db: DbOrTx, f: AuditFilter): Promise<LeafRow[]> {
  const where = [sql`l.leaf_index > ${f.afterLeaf}`];
  if (f.taskId !== undefined) where.push(sql`e.task_id = ${f.taskId}::uuid`);
  if (f.grantId !== undefined) where.push(sql`e.grant_id = ${f.grantId}::uuid`);
  if (f.principal !== undefined) where.push(sql`e.principal = ${f.principal}`);
  const result = await sql<LeafRow>`
    select ${LEAF_COLUMNS} from audit_leaves l join audit_events e on e.seq = l.seq
    where ${sql.join(where, sql` and `)}
    order by l.leaf_index limit ${f.limit}`.execute(db);
  return result.rows;
}

/** One sequenced event by its leaf index. */
export async function findLeafRow(db: DbOrTx, leafIndex: number): Promise<LeafRow | undefined> {
  const result = await sql<LeafRow>`
    select ${LEAF_COLUMNS} from audit_leaves l join audit_events e on e.seq = l.seq
    where l.leaf_index = ${leafIndex}`.execute(db);
  return result.rows[0];
}

/** The leaf indexes (null while not yet sequenced) of the events of a task or of some grants. */
export async function findEventLeaves(
  db: DbOrTx,
  of: { taskId: string } | { grantIds: readonly string[] },
): Promise<Array<{ grant_id: string | null; type: string; leaf_index: number | null }>> {
  if ('grantIds' in of && of.grantIds.length === 0) return [];
  const where =
    'taskId' in of ? sql`e.task_id = ${of.taskId}::uuid` : sql`e.grant_id = any(${of.grantIds}::uuid[])`;
  const result = await sql<{ grant_id: string | null; type: string; leaf_index: string | null }>`
    select e.grant_id, e.type, l.leaf_index from audit_events e left join audit_leaves l on l.seq = e.seq
    where ${where} order by l.leaf_index nulls last, e.seq`.execute(db);
  return result.rows.map((r) => ({ ...r, leaf_index: r.leaf_index === null ? null : Number(r.leaf_index) }));
}
