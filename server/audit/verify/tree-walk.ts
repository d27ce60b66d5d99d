import type { Checkpoint } from '../audit.types';
import type { LegacyRow } from '../audit-leaf';
import type { SignatureProblem } from '../checkpoints/checkpoint-signature';
import { LegacyChainCheck } from '../legacy-chain';
import { hashLeaf, MerkleFrontier } from '../merkle';
import type { BreakReason, VerifyBreak } from './verify.types';

/** One leaf as a source hands it over. */
export interface WalkLeaf {
  index: number;
  /** The exact leaf text, hashed here; undefined when the leaf's event row is gone (or `hash` is given). */
  text: string | undefined;
  /** The leaf hash, when the source computed it from the stored event itself (the database does). */
  hash?: Buffer;
  /** Whether that hash equals the one the sequencer stored for the leaf, when the source can tell. */
  matchesStored?: boolean;
  /** Hex of the leaf hash the sequencer stored, to compare with the hash of `text`. */
  storedHash?: string;
  /** The chain fields of a legacy event, to check its link. */
  legacy?: LegacyRow;
}

/** A checkpoint to hold the tree against, with the result of its signature check. */
export interface WalkCheckpoint {
  checkpoint: Checkpoint;
  problem: SignatureProblem | undefined;
  trusted: boolean;
}

/**
 * Recomputes the RFC 9162 tree leaf by leaf and holds it against every checkpoint as its size is
 * reached; stops at the first break. Independent of where leaves come from (database or export file).
 */
export class TreeWalk {
  private readonly frontier = MerkleFrontier.empty();
  private readonly legacy = new LegacyChainCheck();
  private readonly checkpoints: WalkCheckpoint[];
  private nextCheckpoint = 0;
  private lastVouched = 0;
  matched = 0;
  broken: VerifyBreak | undefined;

  constructor(checkpoints: readonly WalkCheckpoint[]) {
    this.checkpoints = [...checkpoints].sort((a, b) => a.checkpoint.tree_size - b.checkpoint.tree_size);
  }

  get size(): number {
    return this.frontier.size;
  }

  get legacyCount(): number {
    return this.legacy.count;
  }

  root(): Buffer {
    return this.frontier.root();
  }

  /** Adds the next leaf; false once the walk has found a break. */
  add(leaf: WalkLeaf): boolean {
    if (this.broken) return false;
    const index = this.frontier.size;
    if (leaf.index !== index) return this.fail(index, 'leaf_missing', `leaf ${index} is missing`);
    if (leaf.text === undefined && leaf.hash === undefined) {
      return this.fail(index, 'event_missing', `the event of leaf ${index} is gone`);
    }
    const hash = leaf.hash ?? hashLeaf(leaf.text!);
    const stored =
      leaf.matchesStored ?? (leaf.storedHash === undefined || hash.toString('hex') === leaf.storedHash);
    if (!stored) {
      return this.fail(index, 'leaf_hash_mismatch', `leaf ${index} does not hash to the hash stored for it`);
    }
    if (leaf.legacy) {
      const bad = this.legacy.next(leaf.legacy);
      if (bad) return this.fail(index, `chain_${bad}`, `hash chain broken at seq ${leaf.legacy.seq}`);
    }
    this.frontier.appendHash(hash);
    return this.checkReached();
  }

  /**
   * Adds a run of leaves starting at `from` whose hashes the source computed from their events and
   * found equal to the stored ones (32 bytes each in `hashes`), stopping at every checkpoint in between.
   */
  addVerifiedRun(from: number, hashes: Buffer): boolean {
    if (this.broken) return false;
    if (from !== this.frontier.size)
      return this.fail(this.frontier.size, 'leaf_missing', `leaf ${this.frontier.size} is missing`);
    const end = from + hashes.length / 32;
    while (this.frontier.size < end) {
      const next = this.checkpoints[this.nextCheckpoint]?.checkpoint.tree_size ?? end;
      const upto = Math.min(end, Math.max(next, this.frontier.size + 1));
      this.frontier.appendHashes(hashes.subarray((this.frontier.size - from) * 32, (upto - from) * 32));
      if (!this.checkReached()) return false;
    }
    return true;
  }

  /** After the last leaf: a checkpoint beyond the log means leaves were removed from its end. */
  finish(): VerifyBreak | undefined {
    const beyond = this.checkpoints[this.nextCheckpoint];
    if (!this.broken && beyond) {
      this.fail(
        this.size,
        'leaf_missing',
        `checkpoint ${beyond.checkpoint.tree_size} covers leaves the log no longer has`,
      );
    }
    return this.broken;
  }

  /** The frozen head of the legacy chain must be where the chain of leaves ended. */
  finishLegacy(head: { seq: number; hash: string }): VerifyBreak | undefined {
    if (this.broken) return this.broken;
    const bad = this.legacy.finish(head);
    if (bad)
      this.fail(
        Math.min(head.seq, this.legacy.count + 1) - 1,
        `chain_${bad}`,
        'audit_head does not name the last chained event',
      );
    return this.broken;
  }

  private checkReached(): boolean {
    for (;;) {
      const c = this.checkpoints[this.nextCheckpoint];
      if (!c || c.checkpoint.tree_size !== this.frontier.size) return true;
      this.nextCheckpoint += 1;
      const which = `${c.trusted ? 'trusted ' : ''}checkpoint ${c.checkpoint.tree_size}`;
      if (c.problem) return this.fail(this.lastVouched, 'checkpoint_signature', `${which}: ${c.problem}`, c);
      if (this.frontier.root().toString('base64') !== c.checkpoint.root_hash) {
        return this.fail(
          this.lastVouched,
          'checkpoint_mismatch',
          `${which} is not the root of the events`,
          c,
        );
      }
      this.lastVouched = c.checkpoint.tree_size;
      this.matched += 1;
    }
  }

  private fail(index: number, reason: BreakReason, detail: string, c?: WalkCheckpoint): false {
    this.broken = { leafIndex: index, reason, detail, ...(c ? { treeSize: c.checkpoint.tree_size } : {}) };
    return false;
  }
}
