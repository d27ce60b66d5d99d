import type { DbOrTx } from '../db/database';
import { type AuditHead, readChainPage, readHead, readMaxSeq } from './audit.repository';
import type { AuditEvent, ChainBreak, VerifyOptions, VerifyResult } from './audit.types';
import { auditHash, GENESIS_HASH } from './audit-hash';
import { CanonicalJsonError } from './canonical-json';

const DEFAULT_BATCH = 5000;

type Break = NonNullable<VerifyResult['brokenAt']>;

interface WalkState {
  checked: number;
  lastSeq: number;
  lastHash: string;
}

/**
 * Walks the hash chain from event 1 to the head read at the start, in keyset pages on seq, and reports
 * the FIRST broken link: a missing or unexpected seq (`sequence_gap`, at the first missing seq), an
 * event whose `prev_hash` is not its predecessor's hash (`prev_hash_mismatch`), an event whose stored
 * hash is not the hash of its content (`hash_mismatch`), or a head that does not name the last event
 * (`head_mismatch`). It needs no long transaction: an append commits its events and the head together,
 * so every event up to the head read first is visible, and appends made during the walk are left for
 * the next run. `headHash` is the value to record or anchor outside the database: the head row itself
 * is writable by a superuser, so only an external copy proves that no suffix was rewritten.
 */
export async function verifyAuditChain(db: DbOrTx, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  const head = await readHead(db);
  const state: WalkState = { checked: 0, lastSeq: 0, lastHash: GENESIS_HASH };
  const broken =
    (await walk(db, head, state, batchSize, opts.onProgress)) ?? (await checkHead(db, head, state));
  const result: VerifyResult = {
    ok: broken === undefined,
    checked: state.checked,
    headSeq: head.seq,
    headHash: head.hash,
  };
  return broken === undefined ? result : { ...result, brokenAt: broken };
}

async function walk(
  db: DbOrTx,
  head: AuditHead,
  state: WalkState,
  batchSize: number,
  onProgress: VerifyOptions['onProgress'],
): Promise<Break | undefined> {
  let afterSeq: number | null = null;
  for (;;) {
    const page = await readChainPage(db, { afterSeq, uptoSeq: head.seq, limit: batchSize });
    for (const event of page) {
      const broken = checkEvent(event, state);
      if (broken) return broken;
      state.checked += 1;
      state.lastSeq = event.seq;
      state.lastHash = event.hash;
    }
    onProgress?.(state.checked, head.seq);
    if (page.length < batchSize) return undefined;
    afterSeq = state.lastSeq;
  }
}

function checkEvent(event: AuditEvent, state: WalkState): Break | undefined {
  const expected = state.lastSeq + 1;
  if (event.seq !== expected) return at(Math.min(event.seq, expected), 'sequence_gap');
  if (event.prevHash !== state.lastHash) return at(event.seq, 'prev_hash_mismatch');
  return recomputedHash(event) === event.hash ? undefined : at(event.seq, 'hash_mismatch');
}

function recomputedHash(event: AuditEvent): string | undefined {
  try {
    return auditHash(event);
  } catch (err) {
    // A tampered payload can hold what no appender could write (say 1e400, read back as Infinity).
    if (err instanceof CanonicalJsonError) return undefined;
    throw err;
  }
}

async function checkHead(db: DbOrTx, head: AuditHead, state: WalkState): Promise<Break | undefined> {
  // Events the head vouches for but the walk never reached were removed from the tail.
  if (state.lastSeq < head.seq) return at(state.lastSeq + 1, 'sequence_gap');
  if (state.lastHash !== head.hash) return at(head.seq, 'head_mismatch');
  // Rows beyond the head that no append accounts for (inserted around the appender). Read the max first:
  // any event it sees was committed with its head move, so the head read after it has reached it.
  const maxSeq = await readMaxSeq(db);
  const now = await readHead(db);
  return maxSeq > now.seq ? at(now.seq + 1, 'head_mismatch') : undefined;
}

const at = (seq: number, reason: ChainBreak): Break => ({ seq, reason });
