import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import type { LegacyRow } from '../audit-leaf';
import type { NewNode } from '../merkle';

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

/** xmax and the in-progress xids of a pg_snapshot's text form `xmin:xmax:xip,xip,…`. */
export function parseSnapshot(snapshot: string): { xmax: string; xip: string[] } {
  const [, xmax, xip] = snapshot.split(':');
  if (!xmax || xip === undefined) throw new Error(`not a pg_snapshot: ${snapshot}`);
  return { xmax, xip: xip === '' ? [] : xip.split(',') };
}

/**
 * Committed events the last complete pass could not see (PostgreSQL MVCC): an event is new to the
 * sequencer iff its transaction was still running, or had not started, when the stored snapshot was
 * taken (`tx` in its xip list, or ≥ its xmax). Events already given a leaf (seen by a pass that did not
 * finish, or committed while the last pass ran) are skipped. Keyset on (tx, seq): the in-progress xids
 * first (all below xmax), then the range from xmax, each an ordered range scan of the (tx, seq) index
 * that stops at `limit`, so a long backlog costs the same per batch; one transaction's events stay in
 * insert order.
 */
export async function readCandidates(
  db: DbOrTx,
  snapshot: string,
  after: { tx: string; seq: number } | undefined,
  limit: number,
): Promise<Candidate[]> {
  const { xmax, xip } = parseSnapshot(snapshot);
  const [afterTx, afterSeq] = after ? [after.tx, after.seq] : ['0', 0];
  const unsequenced = sql`not exists (select 1 from audit_leaves l where l.seq = e.seq)`;
  const rows: Array<{ seq: string; tx: string; body: string }> = [];
  if (xip.length > 0) {
    const r = await sql<{ seq: string; tx: string; body: string }>`
      select e.seq, e.tx::text as tx, e.body from audit_events e
      where e.tx = any(${xip}::xid8[]) and (e.tx, e.seq) > (${afterTx}::xid8, ${afterSeq}::bigint) and ${unsequenced}
      order by e.tx, e.seq limit ${limit}`.execute(db);
    rows.push(...r.rows);
  }
  if (rows.length < limit) {
    const r = await sql<{ seq: string; tx: string; body: string }>`
      select e.seq, e.tx::text as tx, e.body from audit_events e
      where e.tx >= ${xmax}::xid8 and (e.tx, e.seq) > (${afterTx}::xid8, ${afterSeq}::bigint) and ${unsequenced}
      order by e.tx, e.seq limit ${limit - rows.length}`.execute(db);
    rows.push(...r.rows);
  }
  return rows.map((row) => ({ seq: Number(row.seq), tx: row.tx, body: row.body }));
}

export interface NewLeaf {
  index: number;
  seq: number;
  hash: Buffer;
}

/** Stores a batch of leaves and the subtrees they completed in one statement (atomic on its own). */
export async function writeLeaves(
  db: DbOrTx,
  leaves: readonly NewLeaf[],
  nodes: readonly NewNode[],
): Promise<void> {
  await sql`
    with leaves as (
      insert into audit_leaves (leaf_index, seq, hash)
      select * from unnest(${leaves.map((l) => l.index)}::bigint[], ${leaves.map((l) => l.seq)}::bigint[],
        ${leaves.map((l) => l.hash)}::bytea[])
      returning 1
    )
    insert into audit_tree_nodes (level, node_index, hash)
    select * from unnest(${nodes.map((n) => n.level)}::smallint[], ${nodes.map((n) => n.index)}::bigint[],
      ${nodes.map((n) => n.hash)}::bytea[])`.execute(db);
}
