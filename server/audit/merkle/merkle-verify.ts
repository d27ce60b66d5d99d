import { hashChildren } from './merkle-hash';

/**
 * Proof checks exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 write them (bit-for-bit the steps in
 * specs/real-stack-and-mcp.md §4): used by our own tests and verifiers; auditors may use any
 * implementation, and the tests also run an independent one (transparency-dev/merkle).
 */

const isOdd = (v: number) => v % 2 === 1;
const half = (v: number) => Math.floor(v / 2);

/** The root an inclusion proof leads to, or undefined when the proof cannot be for (index, size). */
export function rootFromInclusion(
  index: number,
  size: number,
  leafHash: Buffer,
  path: readonly Buffer[],
): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return undefined;
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Buffer,
  path: readonly Buffer[],
  root: Buffer,
): boolean {
  const r = rootFromInclusion(index, size, leafHash, path);
  return r?.equals(root) === true;
}

/** RFC 9162 §2.1.4.2, with the edge cases it leaves to the caller: m == n (empty proof, equal roots). */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) {
    return false;
  }
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

function isPowerOfTwo(v: number): boolean {
  let x = v;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
