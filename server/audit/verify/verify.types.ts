import type { Checkpoint } from '../audit.types';

/**
 * Why a log fails verification. Each break names the first leaf index that is not what it should be:
 * - `leaf_missing`: no leaf at this index (deleted, or the log ends before a checkpoint's tree size);
 * - `event_missing`: a leaf whose event row is gone;
 * - `leaf_hash_mismatch`: the event no longer hashes to the leaf hash stored when it was sequenced;
 * - `checkpoint_mismatch`: the tree recomputed from the events is not the signed root (the log was
 *   rewritten or forked); the index is the first leaf that no matching checkpoint vouches for;
 * - `checkpoint_signature`: a checkpoint not signed over its tree head by a trusted audit key;
 * - `event_not_in_log`: a committed event the sequencer has passed over but that has no leaf;
 * - `chain_*`: a break in the hash chain of events written before the transparency log.
 */
export type BreakReason =
  | 'leaf_missing'
  | 'event_missing'
  | 'leaf_hash_mismatch'
  | 'checkpoint_mismatch'
  | 'checkpoint_signature'
  | 'event_not_in_log'
  | 'chain_sequence_gap'
  | 'chain_prev_hash_mismatch'
  | 'chain_hash_mismatch'
  | 'chain_head_mismatch';

export interface VerifyBreak {
  /** The first bad leaf index (null only for an event that never got a leaf). */
  leafIndex: number | null;
  reason: BreakReason;
  detail: string;
  /** The checkpoint involved, for checkpoint breaks. */
  treeSize?: number;
  /** The event's insert sequence, for `event_not_in_log`. */
  seq?: number;
}

export interface VerifyReport {
  ok: boolean;
  /** Leaves recomputed and found intact, from index 0. */
  checked: number;
  /** Leaves in the log when the walk began. */
  treeSize: number;
  /** Base64 RFC 9162 root of the recomputed tree of `checked` leaves. */
  rootHash: string;
  /** Checkpoints (stored and trusted) whose signature and root were checked and matched. */
  checkpointsChecked: number;
  latestCheckpoint: Checkpoint | null;
  /** Events of the hash chain written before the transparency log, checked link by link. */
  legacyEvents: number;
  brokenAt?: VerifyBreak;
}

export interface VerifyOptions {
  /** Checkpoints an auditor kept (e.g. from an earlier export): each must match the recomputed tree. */
  trusted?: readonly Checkpoint[];
  /** Called after each page with the leaves checked so far and the total. */
  onProgress?: (checked: number, total: number) => void;
  /** Leaves read per query (default 10,000). */
  pageSize?: number;
}
