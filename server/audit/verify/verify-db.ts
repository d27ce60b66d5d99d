import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import type { AuditKeyring } from '../checkpoints/audit-keys';
import { listCheckpoints } from '../checkpoints/checkpoint.store';
import { readState, readTreeEnd, type SequencerState } from '../sequencer/sequencer.store';
import { type CleanPage, readCleanPage, readPage, toWalkLeaf } from './leaf-pages';
import type { TreeWalk } from './tree-walk';
import type { VerifyBreak, VerifyOptions, VerifyReport } from './verify.types';
import { buildReport, startWalk } from './verify-report';

const DEFAULT_PAGE = 10_000;
const PAGES_IN_FLIGHT = 3;

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
  // Pages are read ahead while one is walked: the database (on several connections when it has them)
  // and the hashing here overlap. A page that is not clean is read again leaf by leaf.
  const pages: Array<{ from: number; upto: number; page: Promise<CleanPage | undefined> }> = [];
  let requested = 0;
  const request = () => {
    if (requested >= end.size) return;
    const upto = Math.min(end.size, requested + pageSize);
    pages.push({ from: requested, upto, page: readCleanPage(db, requested, upto) });
    requested = upto;
  };
  for (let i = 0; i < PAGES_IN_FLIGHT; i += 1) request();
  while (pages.length > 0 && !walk.broken) {
    const { from, upto, page } = pages.shift()!;
    const clean = await page;
    request();
    if (clean) walk.addVerifiedRun(clean.from, clean.hashes);
    else for (const row of await readPage(db, from, upto)) if (!walk.add(toWalkLeaf(row))) break;
    opts.onProgress?.(walk.size, end.size);
  }
  await Promise.allSettled(pages.map((p) => p.page));
  const state = await readState(db);
  const broken =
    walk.finish() ?? (await checkLegacyHead(db, walk, state)) ?? (await checkNothingLeftOut(db, walk, state));
  return buildReport(walk, end.size, checkpoints, broken);
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
