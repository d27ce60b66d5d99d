import { type Selectable, sql } from 'kysely';
import type { AuditEventsTable, DbOrTx, Tx } from '../db/database';
import type { AuditEvent } from './audit.types';
import type { HashTemplate } from './audit-hash';

/** One event ready to chain: validated fields, its canonical payload and its hash template. */
export interface ChainInput {
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  payloadJson: string;
  template: HashTemplate;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

type AuditRow = Selectable<AuditEventsTable>;

const COLUMNS = [
  'seq',
  'at',
  'type',
  'task_id',
  'grant_id',
  'principal',
  'payload',
  'prev_hash',
  'hash',
] as const;

export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    seq: Number(row.seq),
    at: row.at,
    type: row.type,
    taskId: row.task_id,
    grantId: row.grant_id,
    principal: row.principal,
    payload: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends one event in ONE statement (the hot path: every grant transaction pays it): lock the head row,
 * insert the next event with its hash finished by PostgreSQL's sha256 over the caller-built template,
 * move the head. The lock is held until the caller's transaction ends, so concurrent appenders in any
 * process queue here and the chain never forks; in READ COMMITTED the waiter then reads the new head.
 * Requires a UTF8 database (the hash is over the UTF-8 bytes of the canonical text).
 */
export async function insertChainedOne(tx: Tx, e: ChainInput): Promise<AuditEvent> {
  const t = e.template;
  const result = await sql<AuditRow>`
    with
    head as (select seq, hash from audit_head where id = 1 for update),
    inserted as (
      insert into audit_events (seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)
      select head.seq + 1, ${e.at.toISOString()}::timestamptz, ${e.type}, ${e.taskId}::uuid, ${e.grantId}::uuid,
        ${e.principal}, ${e.payloadJson}::jsonb, head.hash,
        encode(sha256(convert_to(
          ${t.beforePrevHash}::text || head.hash || ${t.beforeSeq}::text || (head.seq + 1)::text || ${t.afterSeq}::text,
          'UTF8')), 'hex')
      from head
      returning *
    ),
    moved as (update audit_head h set seq = inserted.seq, hash = inserted.hash from inserted where h.id = 1)
    select * from inserted`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error('audit_head row is missing: the audit migration has not run');
  return toAuditEvent(row);
}

/**
 * Appends `events` in order in ONE statement under the same head lock: a recursive CTE walks the chain,
 * finishing each hash as insertChainedOne does. The recursion joins the input once per step, so the
 * cost grows with the square of the count: callers chunk.
 */
export async function insertChainedMany(tx: Tx, events: readonly ChainInput[]): Promise<AuditEvent[]> {
  const col = <T>(pick: (e: ChainInput) => T): T[] => events.map(pick);
  const result = await sql<AuditRow>`
    with recursive
    head as (select seq, hash from audit_head where id = 1 for update),
    input as (
      select * from unnest(
        ${col((e) => e.at.toISOString())}::timestamptz[], ${col((e) => e.type)}::text[],
        ${col((e) => e.taskId)}::uuid[], ${col((e) => e.grantId)}::uuid[], ${col((e) => e.principal)}::text[],
        ${col((e) => e.payloadJson)}::text[], ${col((e) => e.template.beforePrevHash)}::text[],
        ${col((e) => e.template.beforeSeq)}::text[], ${col((e) => e.template.afterSeq)}::text[]
      ) with ordinality as i(at, type, task_id, grant_id, principal, payload, t_prev, t_seq, t_after, n)
    ),
    chain(n, seq, prev_hash, hash) as (
      select 0::bigint, seq, null::text, hash from head
      union all
      select i.n, c.seq + 1, c.hash,
        encode(sha256(convert_to(i.t_prev || c.hash || i.t_seq || (c.seq + 1)::text || i.t_after, 'UTF8')), 'hex')
      from chain c join input i on i.n = c.n + 1
    ),
    inserted as (
      insert into audit_events (seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)
      select c.seq, i.at, i.type, i.task_id, i.grant_id, i.principal, i.payload::jsonb, c.prev_hash, c.hash
      from chain c join input i on i.n = c.n
      returning *
    ),
    moved as (
      update audit_head h set seq = last.seq, hash = last.hash
      from (select seq, hash from inserted order by seq desc limit 1) last
      where h.id = 1
    )
    select * from inserted order by seq`.execute(tx);
  return result.rows.map(toAuditEvent);
}

export async function readHead(db: DbOrTx): Promise<AuditHead> {
  const row = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash };
}

/** The largest seq stored, 0 for an empty log. */
export async function readMaxSeq(db: DbOrTx): Promise<number> {
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('seq').as('max'))
    .executeTakeFirstOrThrow();
  return row.max === null ? 0 : Number(row.max);
}

/** Keyset page for the chain walk: seq in (afterSeq, uptoSeq], ascending. `afterSeq` null: from the start. */
export async function readChainPage(
  db: DbOrTx,
  page: { afterSeq: number | null; uptoSeq: number; limit: number },
): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').select(COLUMNS).where('seq', '<=', String(page.uptoSeq));
  if (page.afterSeq !== null) q = q.where('seq', '>', String(page.afterSeq));
  const rows = await q.orderBy('seq').limit(page.limit).execute();
  return rows.map(toAuditEvent);
}

export interface AuditFilter {
  taskId?: string;
  grantId?: string;
  principal?: string;
  afterSeq: number;
  limit: number;
}

export async function findAuditEvents(db: DbOrTx, f: AuditFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').select(COLUMNS).where('seq', '>', String(f.afterSeq));
  if (f.taskId !== undefined) q = q.where('task_id', '=', f.taskId);
  if (f.grantId !== undefined) q = q.where('grant_id', '=', f.grantId);
  if (f.principal !== undefined) q = q.where('principal', '=', f.principal);
  const rows = await q.orderBy('seq').limit(f.limit).execute();
  return rows.map(toAuditEvent);
}
