import type { DbOrTx } from '../../db/database';
import type { Checkpoint } from '../audit.types';
import { latestCheckpoint } from '../checkpoints/checkpoint.store';
import { foldRange, hashLeaf, MerkleFrontier, type NewNode, perfectNodes } from '../merkle';
import { type NewLeaf, readState, readTreeEnd, type SequencerState, writeLeaves } from './sequencer.store';
import { AuditTreeDamaged, MIN_STORED_LEVEL, readNodeHashes } from './tree-nodes';

/** An event ready to become the next leaf: its seq and its leaf text once the index is known. */
export interface PendingLeaf {
  seq: number;
  leaf: (leafIndex: number) => string;
}

/**
 * The leader's view of the log: the frontier of the stored tree, the seq of its last leaf, the
 * sequencer state and the latest signed checkpoint. Loading it refuses a stored tree that does not
 * fold to the latest signed root, so a sequencer never signs a tree that forks from what it signed.
 */
export class SequencedTree {
  private constructor(
    private frontier: MerkleFrontier,
    public lastSeq: number,
    public readonly state: SequencerState,
    public latest: Checkpoint | undefined,
  ) {}

  static async load(db: DbOrTx): Promise<SequencedTree> {
    const end = await readTreeEnd(db);
    const frontier = MerkleFrontier.restore(
      end.size,
      await readNodeHashes(db, MerkleFrontier.nodeIds(end.size)),
    );
    const latest = await latestCheckpoint(db);
    if (latest) await checkSigned(db, latest, end.size);
    return new SequencedTree(frontier, end.lastSeq, await readState(db), latest);
  }

  get size(): number {
    return this.frontier.size;
  }

  root(): Buffer {
    return this.frontier.root();
  }

  /** Gives the events the next leaf indexes, in order, and stores leaves and completed subtrees. */
  async append(db: DbOrTx, pending: readonly PendingLeaf[]): Promise<void> {
    if (pending.length === 0) return;
    const next = this.frontier.clone();
    const leaves: NewLeaf[] = [];
    const nodes: NewNode[] = [];
    for (const p of pending) {
      const index = next.size;
      const hash = hashLeaf(p.leaf(index));
      leaves.push({ index, seq: p.seq, hash });
      for (const node of next.append(hash)) if (node.level >= MIN_STORED_LEVEL) nodes.push(node);
    }
    await writeLeaves(db, leaves, nodes);
    this.frontier = next;
    this.lastSeq = pending[pending.length - 1]!.seq;
  }
}

async function checkSigned(db: DbOrTx, latest: Checkpoint, size: number): Promise<void> {
  if (latest.tree_size > size) {
    throw new AuditTreeDamaged(`checkpoint ${latest.tree_size} covers more leaves than the ${size} stored`);
  }
  const root = foldRange(await readNodeHashes(db, perfectNodes(0, latest.tree_size)));
  if (root.toString('base64') !== latest.root_hash) {
    throw new AuditTreeDamaged(
      `the stored tree does not fold to the root signed at size ${latest.tree_size}`,
    );
  }
}
