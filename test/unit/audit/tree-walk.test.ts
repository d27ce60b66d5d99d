import type { Checkpoint } from '../../../server/audit';
import { hashLeaf, MerkleFrontier } from '../../../server/audit/merkle';
import { parseSnapshot } from '../../../server/audit/sequencer/sequencer.store';
import { TreeWalk, type WalkCheckpoint } from '../../../server/audit/verify/tree-walk';

const leaf = (i: number) => `{"leaf_index":${i}}`;

function checkpointAt(size: number, leaves = Array.from({ length: size }, (_, i) => leaf(i))): Checkpoint {
  const f = MerkleFrontier.empty();
  for (const l of leaves.slice(0, size)) f.append(hashLeaf(l));
  return { tree_size: size, root_hash: f.root().toString('base64'), timestamp: size, signature: 'x' };
}

const ok = (c: Checkpoint, trusted = false): WalkCheckpoint => ({
  checkpoint: c,
  problem: undefined,
  trusted,
});

function walkAll(walk: TreeWalk, n: number, text = leaf) {
  for (let i = 0; i < n; i += 1) if (!walk.add({ index: i, text: text(i) })) break;
  return walk.finish();
}

describe('the verification walk', () => {
  it('when every leaf and checkpoint agree, then nothing is broken and each checkpoint counts once', () => {
    const walk = new TreeWalk([ok(checkpointAt(4)), ok(checkpointAt(9)), ok(checkpointAt(4), true)]);
    expect(walkAll(walk, 10)).toBeUndefined();
    expect(walk.matched).toBe(3);
    expect(walk.size).toBe(10);
  });

  it('when a leaf differs after a checkpoint, then the break is at the first leaf no matching checkpoint vouches for', () => {
    const walk = new TreeWalk([ok(checkpointAt(4)), ok(checkpointAt(8))]);
    expect(walkAll(walk, 10, (i) => (i === 6 ? '{"forged":true}' : leaf(i)))).toMatchObject({
      leafIndex: 4,
      reason: 'checkpoint_mismatch',
      treeSize: 8,
    });
  });

  it('when verified leaf hashes come in runs across checkpoints, then each checkpoint is held against the tree at its size', () => {
    const run = (from: number, to: number, text = leaf) =>
      Buffer.concat(Array.from({ length: to - from }, (_, i) => hashLeaf(text(from + i))));
    const walk = new TreeWalk([ok(checkpointAt(3)), ok(checkpointAt(4)), ok(checkpointAt(9))]);
    expect(walk.addVerifiedRun(0, run(0, 7))).toBe(true);
    expect(walk.addVerifiedRun(7, run(7, 10))).toBe(true);
    expect(walk.finish()).toBeUndefined();
    expect([walk.matched, walk.size]).toEqual([3, 10]);
    const forged = new TreeWalk([ok(checkpointAt(2)), ok(checkpointAt(6))]);
    expect(
      forged.addVerifiedRun(
        0,
        run(0, 8, (i) => (i === 4 ? '{"forged":true}' : leaf(i))),
      ),
    ).toBe(false);
    expect(forged.broken).toMatchObject({ leafIndex: 2, reason: 'checkpoint_mismatch', treeSize: 6 });
    const gap = new TreeWalk([]);
    expect(gap.addVerifiedRun(1, run(1, 3))).toBe(false);
    expect(gap.broken).toMatchObject({ leafIndex: 0, reason: 'leaf_missing' });
  });

  it('when a checkpoint has a bad signature, then the walk stops there even if its root matches', () => {
    const walk = new TreeWalk([
      ok(checkpointAt(2)),
      { checkpoint: checkpointAt(5), problem: 'bad_signature', trusted: false },
    ]);
    expect(walkAll(walk, 6)).toMatchObject({ leafIndex: 2, reason: 'checkpoint_signature' });
  });

  it('when a leaf index is skipped, or the log ends before a checkpoint, then the first missing leaf is named', () => {
    const gap = new TreeWalk([]);
    gap.add({ index: 0, text: leaf(0) });
    expect(gap.add({ index: 2, text: leaf(2) })).toBe(false);
    expect(gap.broken).toMatchObject({ leafIndex: 1, reason: 'leaf_missing' });
    const short = new TreeWalk([ok(checkpointAt(6))]);
    expect(walkAll(short, 4)).toMatchObject({ leafIndex: 4, reason: 'leaf_missing' });
  });

  it('when a source reports a stored hash that differs, then the leaf is named', () => {
    const walk = new TreeWalk([]);
    walk.add({ index: 0, text: leaf(0), storedHash: hashLeaf(leaf(0)).toString('hex') });
    expect(walk.add({ index: 1, text: leaf(1), storedHash: '00'.repeat(32) })).toBe(false);
    expect(walk.broken).toMatchObject({ leafIndex: 1, reason: 'leaf_hash_mismatch' });
    const db = new TreeWalk([]);
    expect(db.add({ index: 0, text: undefined, hash: hashLeaf(leaf(0)), matchesStored: false })).toBe(false);
    expect(db.broken).toMatchObject({ leafIndex: 0, reason: 'leaf_hash_mismatch' });
  });

  it('when a pg_snapshot is parsed, then xmax and the in-progress xids come out as text', () => {
    expect(parseSnapshot('100:105:100,102')).toEqual({ xmax: '105', xip: ['100', '102'] });
    expect(parseSnapshot('7:7:')).toEqual({ xmax: '7', xip: [] });
    expect(() => parseSnapshot('garbage')).toThrow(/not a pg_snapshot/);
  });
});
