import { splitPoint } from './merkle-hash';

/**
 * A perfect subtree: the 2^level leaves starting at index × 2^level. Every hash a proof needs is the
 * root of a range [start, end) that the RFC 9162 recursion produces, and each such range is a run of
 * perfect subtrees of descending size, so a log that stores every perfect subtree's hash once answers
 * any proof with O(log n) lookups instead of rehashing leaves.
 */
export interface NodeId {
  level: number;
  index: number;
}

/** A leaf range [start, end) whose RFC 9162 root (MTH) is one element of a proof. */
export type LeafRange = readonly [start: number, end: number];

const pow2 = (level: number) => 2 ** level;

/**
 * The perfect subtrees that make up [start, end), left to right. For the ranges of the RFC recursion
 * (start aligned to the range's own power of two) their right fold is MTH(D[start:end]).
 */
export function perfectNodes(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let level = 0;
    while (at % pow2(level + 1) === 0 && at + pow2(level + 1) <= end) level += 1;
    nodes.push({ level, index: at / pow2(level) });
    at += pow2(level);
  }
  return nodes;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[0:n]) as the ranges whose roots form it, leaf to root. */
export function inclusionRanges(m: number, n: number): LeafRange[] {
  checkSize(n);
  if (!Number.isSafeInteger(m) || m < 0 || m >= n) throw new RangeError('leaf index must be in [0, n)');
  const out: LeafRange[] = [];
  path(m, 0, n, out);
  return out;
}

function path(m: number, start: number, end: number, out: LeafRange[]): void {
  const n = end - start;
  if (n === 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(m, start, start + k, out);
    out.push([start + k, end]);
  } else {
    path(m - k, start + k, end, out);
    out.push([start, start + k]);
  }
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) as ranges; empty when m == n (nothing to prove). */
export function consistencyRanges(m: number, n: number): LeafRange[] {
  checkSize(n);
  if (!Number.isSafeInteger(m) || m < 1 || m > n) throw new RangeError('first size must be in [1, n]');
  const out: LeafRange[] = [];
  if (m < n) subproof(m, 0, n, true, out);
  return out;
}

function subproof(m: number, start: number, end: number, isWhole: boolean, out: LeafRange[]): void {
  const n = end - start;
  if (m === n) {
    if (!isWhole) out.push([start, end]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(m, start, start + k, isWhole, out);
    out.push([start + k, end]);
  } else {
    subproof(m - k, start + k, end, false, out);
    out.push([start, start + k]);
  }
}

function checkSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('tree size must be a positive integer');
}
