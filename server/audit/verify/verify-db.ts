import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import { type LegacyRow, leafFromBody, leafFromLegacy } from '../audit-leaf';
import type { AuditKeyring } from '../checkpoints/audit-keys';
import { listCheckpoints } from '../checkpoints/checkpoint.store';
import { readState, readTreeEnd, type SequencerState } from '../sequencer/sequencer.store';
import type { TreeWalk, WalkLeaf } from './tree-walk';
import type { VerifyBreak, VerifyOptions, VerifyReport } from './verify.types';
import { buildReport, startWalk } from './verify-report';

const DEFAULT_PAGE = 10_000;

export interface PageRow {
  leaf_index: string;
  leaf_hash: string;
  body: string | null;
  legacy: string | null;
  missing: boolean;
}

/**
 * Recomputes the whole tree from the events in the database and checks every checkpoint's signature and
 * root (issue 13 §5), the stored leaf hashes, the legacy hash chain and that no committed event was
 * left out. Reads in keyset pages on the leaf index; needs no long transaction, since leaves are only
 * ever appended: the walk covers the leaves present when it began.
 */
export async function verifyAuditLog(
  db: DbOrTx,
  ring: AuditKeyring,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const pageSize = opts.pageSize ?? DEFAULT_PAGE;
  // Checkpoints first: each was signed after its leaves were stored, so the end read next covers them all,
  // and a checkpoint beyond it means leaves were removed.
  const checkpoints = await listCheckpoints(db, 0);
  const end = await readTreeEnd(db);
  const walk = await startWalk(checkpoints, opts.trusted ?? [], ring);
  for (let from = 0; from < end.size && !walk.broken; from += pageSize) {
    const rows = await readPage(db, from, Math.min(end.size, from + pageSize));
    // A leaf missing inside the range shows as the next leaf's index not being the one expected.
    for (const row of rows) if (!walk.add(toWalkLeaf(row))) break;
    opts.onProgress?.(walk.size, end.size);
  }
  const state = await readState(db);
  const broken =
    walk.finish() ?? (await checkLegacyHead(db, walk, state)) ?? (await checkNothingLeftOut(db, walk, state));
  return buildReport(walk, end.size, checkpoints, broken);
}

export async function readPage(db: DbOrTx, from: number, upto: number): Promise<PageRow[]> {
  // Legacy rows travel as one JSON text, parsed only for them; new rows need only their body.
  const r = await sql<PageRow>`
    select l.leaf_index, encode(l.hash, 'hex') as leaf_hash, e.body, e.seq is null as missing,
      case when e.seq is not null and e.body is null then json_build_object(
        'seq', e.seq, 'at_ms', round(extract(epoch from e.at) * 1000), 'type', e.type, 'task_id', e.task_id,
        'grant_id', e.grant_id, 'principal', e.principal, 'payload', e.payload, 'prev_hash', e.prev_hash,
        'hash', e.hash)::text end as legacy
    from audit_leaves l left join audit_events e on e.seq = l.seq
    where l.leaf_index >= ${from} and l.leaf_index < ${upto} order by l.leaf_index`.execute(db);
  return r.rows;
}

export function toWalkLeaf(row: PageRow): WalkLeaf {
  const index = Number(row.leaf_index);
  if (row.missing) return { index, text: undefined, storedHash: row.leaf_hash };
  if (row.body !== null) return { index, text: leafFromBody(row.body, index), storedHash: row.leaf_hash };
  const raw = JSON.parse(row.legacy!) as Omit<LegacyRow, 'at'> & { at_ms: number };
  const legacy: LegacyRow = { ...raw, at: new Date(raw.at_ms) };
  return { index, text: legacyLeafOrUndefined(legacy, index), storedHash: row.leaf_hash, legacy };
}

/** A tampered legacy payload may have no canonical form: then it cannot be the leaf that was hashed. */
function legacyLeafOrUndefined(row: LegacyRow, index: number): string {
  try {
    return leafFromLegacy(row, index);
  } catch {
    return '';
  }
}

async function checkLegacyHead(
  db: DbOrTx,
  walk: TreeWalk,
  state: SequencerState,
): Promise<VerifyBreak | undefined> {
  if (state.legacyEvents === 0 || walk.size < state.legacyEvents) return undefined;
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return walk.finishLegacy({ seq: Number(head?.seq ?? 0), hash: head?.hash ?? '' });
}

/**
 * Every event the sequencer's last pass could see must be a leaf: one that is not was dropped from the
 * log (its leaf deleted with the checkpoints after it). Counts first; looks for the event only then.
 */
async function checkNothingLeftOut(
  db: DbOrTx,
  walk: TreeWalk,
  state: SequencerState,
): Promise<VerifyBreak | undefined> {
  // Until the sequencer has made the legacy chain its first leaves, those events are simply waiting.
  if (walk.size < state.legacyEvents) return undefined;
  const r = await sql<{ events: string; leaves: string; pending: string }>`
    with s as (select snapshot from audit_sequencer where id = 1)
    select (select count(*) from audit_events) as events, (select count(*) from audit_leaves) as leaves,
      (select count(*) from audit_events e, s
         where (e.tx >= pg_snapshot_xmax(s.snapshot) or e.tx = any (array(select pg_snapshot_xip(s.snapshot))))
         and not exists (select 1 from audit_leaves l where l.seq = e.seq)) as pending`.execute(db);
  const c = r.rows[0]!;
  if (Number(c.events) - Number(c.pending) <= Number(c.leaves)) return undefined;
  const first = await sql<{ seq: string }>`
    select e.seq from audit_events e, audit_sequencer s
    where (e.tx is null or pg_visible_in_snapshot(e.tx, s.snapshot))
      and not exists (select 1 from audit_leaves l where l.seq = e.seq)
    order by e.seq limit 1`.execute(db);
  const seq = first.rows[0] ? Number(first.rows[0].seq) : undefined;
  if (seq === undefined) return undefined;
  return {
    leafIndex: null,
    reason: 'event_not_in_log',
    detail: `event seq ${seq} was passed over by the sequencer but has no leaf (tree size ${walk.size})`,
    seq,
  };
}
