import { hash } from 'node:crypto';

/**
 * RFC 9162 §2.1.1 hashing with SHA-256. The 0x00 / 0x01 prefixes keep a leaf from ever hashing like an
 * interior node (second-preimage resistance), so a proof cannot pass a node off as an event.
 */

/** One scratch block for 0x01 ‖ left ‖ right: hashing a node allocates only its result. */
const NODE_INPUT = Buffer.alloc(65, 0x01);

/** MTH({}): the root of the empty tree, SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = hash('sha256', '', 'buffer');

/** SHA-256(0x00 ‖ leaf). A string is hashed as its UTF-8 bytes ('\u0000' is the single byte 0x00). */
export function hashLeaf(leaf: string | Buffer): Buffer {
  if (typeof leaf === 'string') return hash('sha256', `\u0000${leaf}`, 'buffer');
  return hash('sha256', Buffer.concat([Buffer.alloc(1), leaf]), 'buffer');
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Buffer, right: Buffer): Buffer {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('node hashes are 32 bytes');
  left.copy(NODE_INPUT, 1);
  right.copy(NODE_INPUT, 33);
  return hash('sha256', NODE_INPUT, 'buffer');
}

/**
 * SHA-256(0x01 ‖ left ‖ right) over hashes held as 32-character latin1 strings: one byte per character,
 * so the same bytes as hashChildren, but V8 makes a short string far more cheaply than a Buffer, which
 * halves the cost of recomputing a large tree.
 */
export function hashChildrenLatin1(left: string, right: string): string {
  NODE_INPUT.write(left, 1, 'latin1');
  NODE_INPUT.write(right, 33, 'latin1');
  return hash('sha256', NODE_INPUT, 'binary');
}

/** hashChildrenLatin1 of `left` and the 32 bytes of `right` at `offset`, without making a string of them. */
export function hashLeafPairLatin1(left: string, right: Buffer, offset: number): string {
  NODE_INPUT.write(left, 1, 'latin1');
  right.copy(NODE_INPUT, 33, offset, offset + 32);
  return hash('sha256', NODE_INPUT, 'binary');
}

/** The k of RFC 9162 §2.1.1: the largest power of two strictly less than n (n > 1), so k < n ≤ 2k. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError('splitPoint needs an integer n > 1');
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Folds the perfect subtrees of a range, left to right in descending size, into its RFC 9162 root. */
export function foldRange(nodes: readonly Buffer[]): Buffer {
  if (nodes.length === 0) return EMPTY_ROOT;
  let root = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i -= 1) root = hashChildren(nodes[i]!, root);
  return root;
}
