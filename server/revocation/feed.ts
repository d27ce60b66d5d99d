import type { DomainUnitOfWork } from '../access/unit';
import type { Db } from '../db/database';
import { feedAfter, hasUnsequencedFeed, sequenceFeedEntries, tryTransactionLock } from './feed.repository';

/** The advisory lock that makes feed sequencing one-at-a-time across every broker ("grantfeed"). */
const FEED_SEQUENCER_LOCK = 0x6772_616e_7466_6564n;
const SEQUENCE_BATCH = 10_000;

/** A revoked grant as the feed shows it. */
export interface FeedItem {
  seq: number;
  jti: string;
  task_id: string;
  reason: string;
  revoked_at: string;
}

export interface FeedPage {
  revocations: FeedItem[];
  next: number;
}

/**
 * The revocation feed in commit order. An entry gets its `seq` only after the transaction that wrote it
 * has committed, from a sequencer any broker runs and the advisory lock keeps to one at a time; a reader
 * that has passed a number can therefore never see a smaller one appear later (a gateway tailing the feed
 * never misses a revocation).
 */
export function createRevocationFeed(deps: { db: Db; uow: DomainUnitOfWork }) {
  async function sequence(): Promise<number> {
    if (!(await hasUnsequencedFeed(deps.db))) return 0;
    return deps.uow.run({}, async (w) =>
      (await tryTransactionLock(w.tx, FEED_SEQUENCER_LOCK)) ? sequenceFeedEntries(w.tx, SEQUENCE_BATCH) : 0,
    );
  }

  async function read(q: { after: number; limit: number; taskId?: string }): Promise<FeedPage> {
    await sequence();
    const rows = await feedAfter(deps.db, q);
    return {
      revocations: rows.map((r) => ({
        seq: Number(r.seq),
        jti: r.grant_id,
        task_id: r.task_id,
        reason: r.reason,
        revoked_at: r.revoked_at.toISOString(),
      })),
      next: rows.length ? Number(rows[rows.length - 1]!.seq) : q.after,
    };
  }

  return { sequence, read };
}

export type RevocationFeed = ReturnType<typeof createRevocationFeed>;
