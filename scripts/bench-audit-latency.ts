import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { appendAuditEvent } from '../server/audit';
import type { Db } from '../server/db/database';

export interface CheckpointLatency {
  /** Probe events whose commit → signed-checkpoint time was measured. */
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Probes still not in a checkpoint when the probe stopped (counted as failures, not as latencies). */
  unfinished: number;
  /** Probe loops that stopped on an error. */
  failedProbes: number;
}

const POLL_MS = 10;
const GIVE_UP_MS = 30_000;

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

/** When the event with this seq is covered by a signed checkpoint (its leaf index < a checkpoint's size). */
async function covered(db: Db, seq: number): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`
    select exists (select 1 from audit_leaves l where l.seq = ${seq}
      and l.leaf_index < (select coalesce(max(tree_size), 0) from audit_checkpoints)) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

/**
 * Measures commit → included in a signed checkpoint (issue 13: ≤ 1 s at p95 under the grants load).
 * `probes` loops each append an event in a transaction of its own, note the moment the commit returned,
 * and poll until a checkpoint covers it; they run until `stop()`, alongside whatever load is running.
 */
export function startCheckpointLatencyProbe(db: Db, opts: { probes?: number; pauseMs?: number } = {}) {
  const latencies: number[] = [];
  let unfinished = 0;
  let running = true;
  const probe = async (p: number) => {
    for (let n = 0; running; n += 1) {
      const event = await db
        .transaction()
        .execute((tx) => appendAuditEvent(tx, { type: 'bench.probe', payload: { probe: p, n } }));
      const committed = performance.now();
      while (!(await covered(db, event.seq))) {
        if (performance.now() - committed > GIVE_UP_MS) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const took = performance.now() - committed;
      if (took > GIVE_UP_MS) unfinished += 1;
      else latencies.push(took);
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 50));
    }
  };
  // A probe that fails (the database went away under it) stops; the failure is counted, never thrown.
  let failed = 0;
  const loops = Array.from({ length: opts.probes ?? 4 }, (_, p) =>
    probe(p).catch(() => {
      failed += 1;
    }),
  );
  return {
    async stop(): Promise<CheckpointLatency> {
      running = false;
      await Promise.all(loops);
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        samples: sorted.length,
        p50Ms: Math.round(percentile(sorted, 50)),
        p95Ms: Math.round(percentile(sorted, 95)),
        maxMs: Math.round(sorted.at(-1) ?? 0),
        unfinished,
        failedProbes: failed,
      };
    },
  };
}
