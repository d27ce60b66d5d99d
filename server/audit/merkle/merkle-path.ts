/**
 * The shape of an RFC 9162 §2.1.3.2 inclusion check, apart from hashing: for a leaf `index` of a tree of
 * `size` leaves and an audit path of `pathLength` hashes, on which side each path hash joins the running
 * hash. Pure and free of Node, so the broker (node:crypto, synchronous) and the console (WebCrypto in
 * the auditor's browser, asynchronous) walk the very same steps and only hash differently.
 */

/** `left`: r = HASH(0x01 ‖ p ‖ r); `right`: r = HASH(0x01 ‖ r ‖ p). */
export type PathSide = 'left' | 'right';

const isOdd = (v: number) => v % 2 === 1;
const half = (v: number) => Math.floor(v / 2);

/** The side of each path hash, or undefined when no path of that length can be for (index, size). */
export function inclusionSides(index: number, size: number, pathLength: number): PathSide[] | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return undefined;
  }
  let fn = index;
  let sn = size - 1;
  const sides: PathSide[] = [];
  for (let i = 0; i < pathLength; i += 1) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      sides.push('left');
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sides.push('right');
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? sides : undefined;
}
