import { EMPTY_ROOT, foldRange, hashChildren, hashChildrenLatin1, hashLeafPairLatin1 } from './merkle-hash';
import { type NodeId, perfectNodes } from './merkle-ranges';

/** A perfect subtree completed by an append, to be stored for later proofs. */
export interface NewNode extends NodeId {
  hash: Buffer;
}

/**
 * The right edge of a growing RFC 9162 tree: the roots of the perfect subtrees that make up [0, size),
 * largest first (one per set bit of size). Appending a leaf merges equal-sized neighbours, and each
 * merge completes a perfect subtree that `append` reports; the root is their right fold. Memory and
 * work per leaf are O(log n), whatever the size of the log.
 */
export class MerkleFrontier {
  private readonly nodes: Buffer[];
  private count: number;

  private constructor(size: number, nodes: Buffer[]) {
    this.count = size;
    this.nodes = nodes;
  }

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** The perfect subtrees whose hashes rebuild the frontier of a tree of `size` leaves. */
  static nodeIds(size: number): NodeId[] {
    return perfectNodes(0, size);
  }

  /** Rebuilds the frontier from the stored hashes of `nodeIds(size)`, in that order. */
  static restore(size: number, hashes: readonly Buffer[]): MerkleFrontier {
    if (hashes.length !== perfectNodes(0, size).length) {
      throw new RangeError(`a tree of ${size} leaves needs ${perfectNodes(0, size).length} frontier hashes`);
    }
    return new MerkleFrontier(size, [...hashes]);
  }

  /** An independent copy: extend it, and keep it only once what it adds is stored. */
  clone(): MerkleFrontier {
    return new MerkleFrontier(this.count, [...this.nodes]);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the next leaf hash; returns every perfect subtree (level ≥ 1) it completed, lowest first. */
  append(leafHash: Buffer): NewNode[] {
    const completed: NewNode[] = [];
    let carry = leafHash;
    let level = 0;
    let rest = this.count;
    while (rest % 2 === 1) {
      carry = hashChildren(this.nodes.pop()!, carry);
      level += 1;
      rest = Math.floor(rest / 2);
      completed.push({ level, index: Math.floor(this.count / 2 ** level), hash: carry });
    }
    this.nodes.push(carry);
    this.count += 1;
    return completed;
  }

  /** Adds the next leaf hash without reporting completed subtrees (verification needs only the roots). */
  appendHash(leafHash: Buffer): void {
    let carry = leafHash;
    for (let rest = this.count; rest % 2 === 1; rest = Math.floor(rest / 2)) {
      carry = hashChildren(this.nodes.pop()!, carry);
    }
    this.nodes.push(carry);
    this.count += 1;
  }

  /**
   * Adds the leaf hashes packed in `blob` (32 bytes each, in leaf order), as appendHash would one by one.
   * The frontier is worked on as latin1 strings meanwhile (see hashChildrenLatin1): verification adds
   * every leaf of the log this way.
   */
  appendHashes(blob: Buffer): void {
    if (blob.length % 32 !== 0) throw new RangeError('leaf hashes are 32 bytes each');
    const nodes = this.nodes.map((n) => n.toString('latin1'));
    for (let off = 0; off < blob.length; off += 32) {
      let rest = this.count;
      this.count += 1;
      if (rest % 2 === 0) {
        nodes.push(blob.toString('latin1', off, off + 32));
        continue;
      }
      let carry = hashLeafPairLatin1(nodes.pop()!, blob, off);
      for (rest = Math.floor(rest / 2); rest % 2 === 1; rest = Math.floor(rest / 2)) {
        carry = hashChildrenLatin1(nodes.pop()!, carry);
      }
      nodes.push(carry);
    }
    this.nodes.splice(0, this.nodes.length, ...nodes.map((n) => Buffer.from(n, 'latin1')));
  }

  root(): Buffer {
    return this.count === 0 ? EMPTY_ROOT : foldRange(this.nodes);
  }
}
