import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Db, JobRow } from '../db/database';
import type { Logger } from '../shared/logger';
import { dueJobIds, fenceJob } from './revocation.repository';

/** Advisory-lock keys of revocation jobs: this namespace plus the job id ("GRJ…"). */
const JOB_LOCK_NAMESPACE = 0x4752_4a00_0000_0000n;
const keyOf = (jobId: string): string => (JOB_LOCK_NAMESPACE + BigInt(jobId)).toString();

export interface ClaimedJob extends JobRow {
  claim: string;
}

export interface JobClaims {
  /** Claims up to `limit` due jobs this worker does not hold yet. */
  claimDue(now: Date, limit: number): Promise<ClaimedJob[]>;
  release(jobId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A claim on a revocation job is a session-level advisory lock held on one dedicated connection of this
 * worker: when the broker dies (SIGKILL, a lost host), PostgreSQL ends the session and drops every lock
 * it held at once, so another broker's next poll takes the job over, with no visibility timeout to wait
 * out. Each claim also writes a fresh `claim` token on the job; finishing or rescheduling presents it, so
 * a worker that lost its session (and so its lock) while still working can never finish a job twice.
 */
export function createJobClaims(deps: {
  db: Db;
  connect: () => Promise<pg.Client>;
  logger: Logger;
}): JobClaims {
  const held = new Set<string>();
  let session: Promise<pg.Client> | undefined;

  function lose(reason: string) {
    if (!session) return;
    deps.logger.warn(
      { held: held.size, reason },
      'revocation claim session lost; its jobs are free to others',
    );
    session = undefined;
    held.clear();
  }

  async function current(): Promise<pg.Client> {
    session ??= deps.connect().then((c) => {
      c.on('error', (err) => lose(err.message));
      c.on('end', () => lose('ended'));
      return c;
    });
    try {
      return await session;
    } catch (err) {
      session = undefined;
      throw err;
    }
  }

  async function tryClaim(client: pg.Client, id: string, now: Date): Promise<ClaimedJob | undefined> {
    const got = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1::bigint) as got', [
      keyOf(id),
    ]);
    if (!got.rows[0]?.got) return undefined;
    const claim = randomUUID();
    const job = await fenceJob(deps.db, { id, claim, now });
    if (!job) {
      await client.query('select pg_advisory_unlock($1::bigint)', [keyOf(id)]);
      return undefined;
    }
    held.add(id);
    return { ...job, claim };
  }

  return {
    async claimDue(now, limit) {
      const client = await current();
      const claimed: ClaimedJob[] = [];
      for (const id of await dueJobIds(deps.db, { now, limit: limit * 2, lockBase: JOB_LOCK_NAMESPACE })) {
        if (claimed.length >= limit) break;
        if (held.has(id)) continue;
        const job = await tryClaim(client, id, now);
        if (job) claimed.push(job);
      }
      return claimed;
    },
    async release(jobId) {
      if (!held.delete(jobId) || !session) return;
      const client = await session.catch(() => undefined);
      await client?.query('select pg_advisory_unlock($1::bigint)', [keyOf(jobId)]).catch(() => undefined);
    },
    async close() {
      const client = await session?.catch(() => undefined);
      session = undefined;
      held.clear();
      await client?.end().catch(() => undefined);
    },
  };
}
