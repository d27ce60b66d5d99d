import {
  consistencyRanges,
  EMPTY_ROOT,
  foldRange,
  hashChildren,
  hashLeaf,
  inclusionRanges,
  type LeafRange,
  MerkleFrontier,
  perfectNodes,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from '../../../server/audit/merkle';

/** The textbook definition of RFC 9162 §2.1.1, recursive over leaf hashes: the reference to compare with. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

// The RFC 6962 test vectors that transparency-dev/merkle and certificate-transparency-go use.
const VECTOR_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const VECTOR_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const MAX = 70;
const leaves = Array.from({ length: MAX }, (_, i) => hashLeaf(`{"leaf_index":${i}}`));

/** Every perfect subtree hash of the first MAX leaves, as a log stores them. */
function nodeHash(level: number, index: number): Buffer {
  const span = 2 ** level;
  return refRange(index * span, (index + 1) * span);
}
const refCache = new Map<string, Buffer>();
function refRange(start: number, end: number): Buffer {
  const key = `${start}-${end}`;
  if (!refCache.has(key)) refCache.set(key, referenceRoot(leaves.slice(start, end)));
  return refCache.get(key)!;
}
const rangeRoot = ([start, end]: LeafRange) =>
  foldRange(perfectNodes(start, end).map((n) => nodeHash(n.level, n.index)));

describe('RFC 9162 Merkle tree', () => {
  it('when built from the RFC 6962 test vector leaves, then every root equals the published one', () => {
    const f = MerkleFrontier.empty();
    const roots = [f.root().toString('hex')];
    for (const input of VECTOR_INPUTS) {
      f.append(hashLeaf(Buffer.from(input, 'hex')));
      roots.push(f.root().toString('hex'));
    }
    expect(roots).toEqual(VECTOR_ROOTS);
  });

  it('when leaves are appended one by one, then the root is the reference root at every size and the completed nodes are the perfect subtrees', () => {
    const f = MerkleFrontier.empty();
    const quiet = MerkleFrontier.empty();
    for (let n = 1; n <= MAX; n += 1) {
      const completed = f.append(leaves[n - 1]!);
      quiet.appendHash(leaves[n - 1]!);
      expect(f.root().equals(referenceRoot(leaves.slice(0, n)))).toBe(true);
      expect(quiet.root().equals(f.root())).toBe(true);
      for (const node of completed) expect(node.hash.equals(nodeHash(node.level, node.index))).toBe(true);
      // A node of level L completes exactly when n is a multiple of 2^L.
      expect(completed.map((c) => c.level)).toEqual(
        Array.from({ length: MAX }, (_, l) => l + 1).filter((l) => n % 2 ** l === 0),
      );
    }
  });

  it('when leaf hashes are appended in packed runs of any length, then the root is the reference root after every run', () => {
    for (const run of [1, 2, 3, 7, 16, 33]) {
      const f = MerkleFrontier.empty();
      for (let n = 0; n < MAX; n += run) {
        const end = Math.min(MAX, n + run);
        f.appendHashes(Buffer.concat(leaves.slice(n, end)));
        expect(f.size).toBe(end);
        expect(f.root().equals(referenceRoot(leaves.slice(0, end)))).toBe(true);
      }
      f.append(leaves[0]!);
      expect(f.root().equals(referenceRoot([...leaves.slice(0, MAX), leaves[0]!]))).toBe(true);
    }
    expect(() => MerkleFrontier.empty().appendHashes(Buffer.alloc(31))).toThrow(RangeError);
  });

  it('when a frontier is restored from stored node hashes, then it continues exactly as the original', () => {
    for (const size of [0, 1, 5, 8, 13, 64]) {
      const ids = MerkleFrontier.nodeIds(size);
      const f = MerkleFrontier.restore(
        size,
        ids.map((n) => (n.level === 0 ? leaves[n.index]! : nodeHash(n.level, n.index))),
      );
      expect(f.root().equals(referenceRoot(leaves.slice(0, size)))).toBe(true);
      f.append(leaves[size]!);
      expect(f.root().equals(referenceRoot(leaves.slice(0, size + 1)))).toBe(true);
    }
    expect(() => MerkleFrontier.restore(5, [])).toThrow(RangeError);
  });

  it('when range roots come from stored perfect subtrees, then they equal the recursive MTH of that range', () => {
    for (let n = 1; n <= MAX; n += 1) {
      for (let m = 0; m < n; m += 1) {
        for (const r of inclusionRanges(m, n)) {
          expect(rangeRoot(r).equals(refRange(r[0], r[1]))).toBe(true);
        }
      }
    }
  });

  it('when every inclusion proof for sizes 1..70 is generated, then each verifies and every tampered one fails', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n += 1) {
      const root = refRange(0, n);
      for (let m = 0; m < n; m += 1) {
        const path = inclusionRanges(m, n).map(rangeRoot);
        expect(verifyInclusion(m, n, leaves[m]!, path, root)).toBe(true);
        expect(verifyInclusion(m, n, leaves[(m + 1) % MAX]!, path, root)).toBe(false);
        expect(verifyInclusion(m, n, leaves[m]!, [...path, leaves[0]!], root)).toBe(false);
        if (path.length > 0) {
          expect(verifyInclusion(m, n, leaves[m]!, path.slice(1), root)).toBe(false);
          if ((m ^ 1) < n) expect(verifyInclusion(m ^ 1, n, leaves[m]!, path, root)).toBe(false);
        }
        checked += 1;
      }
      // RFC 9162 §2.1.3.2 step 1: index == size fails (some implementations wrongly test >).
      expect(verifyInclusion(n, n, leaves[0]!, [], root)).toBe(false);
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('when every consistency proof for 1 <= m <= n <= 70 is generated, then each verifies and tampered ones fail', () => {
    for (let n = 1; n <= MAX; n += 1) {
      const second = refRange(0, n);
      for (let m = 1; m <= n; m += 1) {
        const first = refRange(0, m);
        const proof = consistencyRanges(m, n).map(rangeRoot);
        expect(verifyConsistency(m, n, first, second, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, hashLeaf('forged'), second, proof)).toBe(false);
          expect(verifyConsistency(m, n, first, first, proof)).toBe(false);
          expect(verifyConsistency(m, n, first, second, proof.slice(0, -1))).toBe(false);
          expect(verifyConsistency(m, n, first, second, [])).toBe(false);
        }
      }
    }
    expect(verifyConsistency(3, 2, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(0, 2, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
  });

  it('when a proof is asked outside the tree, then generation refuses it', () => {
    expect(() => inclusionRanges(3, 3)).toThrow(RangeError);
    expect(() => inclusionRanges(0, 0)).toThrow(RangeError);
    expect(() => consistencyRanges(0, 3)).toThrow(RangeError);
    expect(() => consistencyRanges(4, 3)).toThrow(RangeError);
    expect(consistencyRanges(3, 3)).toEqual([]);
  });

  it('when leaf indexes pass 2^32, then ranges and the frontier keep exact arithmetic', () => {
    const n = 2 ** 33 + 5;
    const ranges = inclusionRanges(2 ** 32 + 3, n);
    expect(ranges.length).toBeGreaterThan(30);
    const nodes = perfectNodes(0, n);
    expect(nodes.map((x) => x.level)).toEqual([33, 2, 0]);
    expect(nodes.map((x) => x.index)).toEqual([0, 2 ** 31, 2 ** 33 + 4]);
  });
});
