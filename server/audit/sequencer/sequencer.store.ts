import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import type { LegacyRow } from '../audit-leaf';
import type { NewNode, NodeId } from '../merkle';

export interface SequencerState {
  /** pg_snapshot text of the last complete pass: every event visible in it has a leaf. */
  snapshot: string;
  legacyEvents: number;
  legacyLastSeq: number;
}

export async function readState(db: DbOrTx): Promise<SequencerState> {
  const row = await db.selectFrom('audit_sequencer').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) throw new Error('audit_sequencer row is missing: the transparency-log migration has not run');
  return {
    snapshot: row.snapshot,
    legacyEvents: Number(row.legacy_events),
    legacyLastSeq: Number(row.legacy_last_seq),
  };
}

export async function writeSnapshot(db: DbOrTx, snapshot: string): Promise<void> {
  await sql`update audit_sequencer set snapshot = ${snapshot}::pg_snapshot where id = 1`.execute(db);
}

export async function currentSnapshot(db: DbOrTx): Promise<string> {
  const r = await sql<{ s: string }>`select pg_current_snapshot()::text as s`.execute(db);
  return r.rows[0]!.s;
}

/** Leaves stored: the tree size, and the seq of the last leaf (where the legacy walk resumes). */
export async function readTreeEnd(db: DbOrTx): Promise<{ size: number; lastSeq: number }> {
  const r = await sql<{ leaf_index: string; seq: string }>`
    select leaf_index, seq from audit_leaves order by leaf_index desc limit 1`.execute(db);
  const last = r.rows[0];
  return last ? { size: Number(last.leaf_index) + 1, lastSeq: Number(last.seq) } : { size: 0, lastSeq: 0 };
}

/**
 * The stored hashes of the given perfect subtrees, in the order asked (level 0: leaf hashes). Throws
 * when one is missing: the tree tables were damaged, and nothing should be built or proved on them.
 */
export async function readNodeHashes(db: DbOrTx, ids: readonly NodeId[]): Promise<Buffer[]> {
  if (ids.length === 0) return [];
  const leaves = ids.filter((n) => n.level === 0).map((n) => n.index);
  const inner = ids.filter((n) => n.level > 0);
  const r = await sql<{ level: number; node_index: string; hash: Buffer }>`
    select 0 as level, leaf_index as node_index, hash from audit_leaves where leaf_index = any(${leaves}::bigint[])
    union all
    select n.level, n.node_index, n.hash from audit_tree_nodes n
    join unnest(${inner.map((n) => n.level)}::smallint[], ${inner.map((n) => n.index)}::bigint[]) as w(level, node_index)
      on n.level = w.level and n.node_index = w.node_index`.execute(db);
  const found = new Map(r.rows.map((row) => [`${row.level}/${row.node_index}`, row.hash]));
  return ids.map((n) => {
    const hash = found.get(`${n.level}/${n.index}`);
    if (!hash) throw new AuditTreeDamaged(`the audit tree has no node at level ${n.level} index ${n.index}`);
    return hash;
  });
}

/** The stored tree disagrees with itself or with what was signed: nothing may be built or proved on it. */
export class AuditTreeDamaged extends Error {
  override readonly name = 'AuditTreeDamaged';
}

/** The next legacy (hash-chain) events to become leaves, in chain order. */
export async function readLegacyBatch(
  db: DbOrTx,
  afterSeq: number,
  lastLegacySeq: number,
  limit: number,
): Promise<LegacyRow[]> {
  const r = await sql<Omit<LegacyRow, 'seq'> & { seq: string }>`
    select seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash from audit_events
    where tx is null and seq > ${afterSeq} and seq <= ${lastLegacySeq} order by seq limit ${limit}`.execute(
    db,
  );
  return r.rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

export interface Candidate {
  seq: number;
  tx: string;
  body: string;
}

/**
 * Committed events the last complete pass could not see (RFC-free, PostgreSQL MVCC): an event is new
 * to the sequencer iff its transaction was still running, or had not started, when the stored snapshot
 * was taken (`tx` in its xip list, or ≥ its xmax). Events already given a leaf (seen by a pass that did
 * not finish, or committed while the last pass ran) are skipped. Keyset on (tx, seq), so a long backlog
 * is read in bounded batches through the (tx, seq) index; one transaction's events stay in insert order.
 */
export async function readCandidates(
  db: DbOrTx,
  snapshot: string,
  after: { tx: string; seq: number } | undefined,
  limit: number,
): Promise<Candidate[]> {
  const [afterTx, afterSeq] = after ? [after.tx, after.seq] : ['0', 0];
  const r = await sql<{ seq: string; tx: string; body: string }>`
    with s as (select ${snapshot}::pg_snapshot as snap),
    c as (
      select e.seq, e.tx, e.body from audit_events e, s
      where e.tx = any (array(select pg_snapshot_xip(s.snap))) and (e.tx, e.seq) > (${afterTx}::xid8, ${afterSeq}::bigint)
      union all
      select e.seq, e.tx, e.body from audit_events e, s
      where e.tx >= pg_snapshot_xmax(s.snap) and (e.tx, e.seq) > (${afterTx}::xid8, ${afterSeq}::bigint)
    )
    select c.seq, c.tx::text as tx, c.body from c
    where not exists (select 1 from audit_leaves l where l.seq = c.seq)
    order by c.tx, c.seq limit ${limit}`.execute(db);
  return r.rows.map((row) => ({ seq: Number(row.seq), tx: row.tx, body: row.body }));
}

export interface NewLeaf {
  index: number;
  seq: number;
  hash: Buffer;
}

/** Stores a batch of leaves and the subtrees they completed, atomically. */
export async function writeLeaves(
  db: DbOrTx,
  leaves: readonly NewLeaf[],
  nodes: readonly NewNode[],
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await sql`
      insert into audit_leaves (leaf_index, seq, hash)
      select * from unnest(${leaves.map((l) => l.index)}::bigint[], ${leaves.map((l) => l.seq)}::bigint[],
        ${leaves.map((l) => l.hash)}::bytea[])`.execute(tx);
    if (nodes.length === 0) return;
    await sql`
      insert into audit_tree_nodes (level, node_index, hash)
      select * from unnest(${nodes.map((n) => n.level)}::smallint[], ${nodes.map((n) => n.index)}::bigint[],
        ${nodes.map((n) => n.hash)}::bytea[])`.execute(tx);
  });
}

/** Runs `fn` in the caller's transaction if there is one, else in a new one. */
async function inTransaction(db: DbOrTx, fn: (tx: DbOrTx) => Promise<void>): Promise<void> {
  if (db.isTransaction) return fn(db);
  await db.transaction().execute(fn);
}
