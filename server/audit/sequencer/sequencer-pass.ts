import type { DbOrTx } from '../../db/database';
import { leafFromBody, leafFromLegacy } from '../audit-leaf';
import type { SequencedTree } from './sequenced-tree';
import { currentSnapshot, readCandidates, readLegacyBatch, writeSnapshot } from './sequencer.store';

/**
 * One pass: gives every event committed since the last complete pass its leaf, in batches, and then
 * records the snapshot taken when the pass began. Everything visible in that snapshot has been given a
 * leaf (a committed event is visible in every later batch too, and the keyset walk passes every key
 * once), so the next pass looks only at transactions that were still running or had not begun then.
 * Never skips a committed event, never waits for one that is still running or was rolled back: an
 * aborted transaction simply never becomes visible. Returns the number of leaves added.
 */
export async function runSequencerPass(db: DbOrTx, tree: SequencedTree, batchSize: number): Promise<number> {
  const snapshot = await currentSnapshot(db);
  let added = await sequenceLegacy(db, tree, batchSize);
  let after: { tx: string; seq: number } | undefined;
  for (;;) {
    const batch = await readCandidates(db, tree.state.snapshot, after, batchSize);
    await tree.append(
      db,
      batch.map((c) => ({ seq: c.seq, leaf: (index: number) => leafFromBody(c.body, index) })),
    );
    added += batch.length;
    if (batch.length < batchSize) break;
    const last = batch[batch.length - 1]!;
    after = { tx: last.tx, seq: last.seq };
  }
  if (added > 0) {
    await writeSnapshot(db, snapshot);
    tree.state.snapshot = snapshot;
  }
  return added;
}

/** The events of the hash chain written before the transparency log become the first leaves, in order. */
async function sequenceLegacy(db: DbOrTx, tree: SequencedTree, batchSize: number): Promise<number> {
  let added = 0;
  while (tree.size < tree.state.legacyEvents) {
    const rows = await readLegacyBatch(db, tree.lastSeq, tree.state.legacyLastSeq, batchSize);
    if (rows.length === 0) break;
    await tree.append(
      db,
      rows.map((row) => ({ seq: row.seq, leaf: (index: number) => leafFromLegacy(row, index) })),
    );
    added += rows.length;
  }
  return added;
}
