import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { Checkpoint } from './audit.types';
import { latestCheckpoint } from './checkpoints/checkpoint.store';

const POLL_MS = 20;

/**
 * Waits (up to `timeoutMs`) until every event committed before the call has its leaf, so a reader sees
 * what it, or anyone before it, has just written. Exact under load: it compares against a snapshot taken
 * at the call, so events committed later never keep it waiting. `kick` wakes a local sequencer.
 * Returns false on timeout (no broker leading the sequencer, or a backlog).
 */
export async function awaitSequenced(
  db: Db,
  opts: { timeoutMs: number; kick?: () => void },
): Promise<boolean> {
  const snap = await sql<{ s: string }>`select pg_current_snapshot()::text as s`.execute(db);
  const asked = snap.rows[0]!.s;
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    opts.kick?.();
    const r = await sql<{ waiting: boolean }>`
      with s as (select snapshot from audit_sequencer where id = 1)
      select exists (
        select 1 from audit_events e, s
        where (e.tx >= pg_snapshot_xmax(s.snapshot) or e.tx = any (array(select pg_snapshot_xip(s.snapshot))))
          and pg_visible_in_snapshot(e.tx, ${asked}::pg_snapshot)
          and not exists (select 1 from audit_leaves l where l.seq = e.seq)) as waiting`.execute(db);
    if (!r.rows[0]!.waiting) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Waits until a signed checkpoint covers every event committed before the call (the on-demand
 * checkpoint of issue 13 §3 when another broker leads). Undefined on timeout.
 */
export async function awaitCheckpoint(
  db: Db,
  opts: { timeoutMs: number; kick?: () => void },
): Promise<Checkpoint | undefined> {
  const started = Date.now();
  if (!(await awaitSequenced(db, opts))) return undefined;
  const end = await sql<{ n: string | null }>`select max(leaf_index) + 1 as n from audit_leaves`.execute(db);
  const size = Number(end.rows[0]?.n ?? 0);
  const deadline = started + opts.timeoutMs;
  for (;;) {
    const latest = await latestCheckpoint(db);
    if (latest && latest.tree_size >= size) return latest;
    if (size === 0 || Date.now() >= deadline) return latest && latest.tree_size >= size ? latest : undefined;
    opts.kick?.();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
