import { auditHash, GENESIS_HASH } from './audit-hash';
import type { LegacyRow } from './audit-leaf';
import { CanonicalJsonError } from './canonical-json';

export type LegacyBreak = 'sequence_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'head_mismatch';

/**
 * Checks the legacy hash chain one event at a time as the tree walk meets it (legacy events are the
 * first leaves, in chain order): seq 1, 2, 3…, each `prev_hash` its predecessor's hash, each hash the
 * hash of its content; at the end, the frozen audit_head must name the last event.
 */
export class LegacyChainCheck {
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;

  get count(): number {
    return this.lastSeq;
  }

  next(row: LegacyRow): LegacyBreak | undefined {
    if (row.seq !== this.lastSeq + 1) return 'sequence_gap';
    if (row.prev_hash !== this.lastHash) return 'prev_hash_mismatch';
    if (recomputed(row) !== row.hash) return 'hash_mismatch';
    this.lastSeq = row.seq;
    this.lastHash = row.hash;
    return undefined;
  }

  /** The frozen head must be exactly where the chain ended. */
  finish(head: { seq: number; hash: string }): LegacyBreak | undefined {
    if (head.seq !== this.lastSeq) return head.seq > this.lastSeq ? 'sequence_gap' : 'head_mismatch';
    return head.hash === this.lastHash ? undefined : 'head_mismatch';
  }
}

function recomputed(row: LegacyRow): string | undefined {
  try {
    return auditHash({
      seq: row.seq,
      at: row.at,
      type: row.type,
      taskId: row.task_id,
      grantId: row.grant_id,
      principal: row.principal,
      payload: row.payload,
      prevHash: row.prev_hash,
    });
  } catch (err) {
    // A tampered payload can hold what no appender could write (say 1e400, read back as Infinity).
    if (err instanceof CanonicalJsonError) return undefined;
    throw err;
  }
}
