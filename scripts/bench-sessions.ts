import { sql } from 'kysely';
import { type BenchBroker, sleep } from './bench-harness';
import { round } from './bench-load';

export interface SessionProfile {
  /** Average broker PostgreSQL sessions running a statement. */
  avgSessionsActive: number;
  /** Of those, waiting on a lock (row locks show as waits on the holder's transaction). */
  avgSessionsWaitingOnLock: number;
  /** Inside a transaction but waiting for the broker's next statement (what a busy event loop costs lock holders). */
  avgSessionsIdleInTransaction: number;
  /** The statement most often seen waiting on a lock, and the share of lock waits it accounts for. */
  topLockWait: { statement: string; share: number } | null;
}

interface Sample {
  state: string | null;
  wait_event_type: string | null;
  statement: string;
}

/** Samples pg_stat_activity for the broker's pool (every 100 ms) until `stop()`. */
export function sampleSessions(b: BenchBroker) {
  const counts = { active: 0, waiting: 0, idleInTx: 0, samples: 0 };
  const waits = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await sql<Sample>`
        select state, wait_event_type, left(btrim(regexp_replace(query, '\\s+', ' ', 'g')), 70) as statement
        from pg_stat_activity where datname = ${b.dbName} and application_name = 'grantline'`.execute(
        b.db.db,
      );
      for (const s of r.rows) {
        if (s.state === 'active') counts.active += 1;
        if (s.state === 'idle in transaction') counts.idleInTx += 1;
        if (s.wait_event_type === 'Lock') {
          counts.waiting += 1;
          waits.set(s.statement, (waits.get(s.statement) ?? 0) + 1);
        }
      }
      counts.samples += 1;
      await sleep(100);
    }
  })();
  return {
    async stop(): Promise<SessionProfile> {
      running = false;
      await loop;
      const n = Math.max(1, counts.samples);
      const top = [...waits.entries()].sort((x, y) => y[1] - x[1])[0];
      return {
        avgSessionsActive: round(counts.active / n, 2),
        avgSessionsWaitingOnLock: round(counts.waiting / n, 2),
        avgSessionsIdleInTransaction: round(counts.idleInTx / n, 2),
        topLockWait: top
          ? { statement: top[0], share: round(top[1] / Math.max(1, counts.waiting), 2) }
          : null,
      };
    },
  };
}
