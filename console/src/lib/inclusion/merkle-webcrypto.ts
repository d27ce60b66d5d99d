import { inclusionSides } from '../../../../server/audit/merkle/merkle-path';

/**
 * RFC 9162 §2.1.1 hashing with the browser's WebCrypto, walking an inclusion proof by the broker's own
 * steps (merkle-path: which side each audit-path hash joins on). Only the hashing is the browser's.
 */

export const HASH_BYTES = 32;

/** WebCrypto exists only in a secure context (HTTPS or localhost): say so instead of failing obscurely. */
function subtle(): typeof crypto.subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('this page is not a secure context (HTTPS), so the browser offers no WebCrypto');
  return s;
}

async function sha256(prefix: number, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const input = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  input[0] = prefix;
  let at = 1;
  for (const p of parts) {
    input.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle().digest('SHA-256', input));
}

/** SHA-256(0x00 ‖ leaf), the leaf being the UTF-8 bytes of its text. */
export const leafHash = (leaf: string): Promise<Uint8Array> => sha256(0x00, new TextEncoder().encode(leaf));

/** SHA-256(0x01 ‖ left ‖ right). */
const nodeHash = (left: Uint8Array, right: Uint8Array): Promise<Uint8Array> => sha256(0x01, left, right);

/** RFC 9162 §2.1.3.2: the root the audit path leads to, or undefined when it cannot be for (index, size). */
export async function rootFromAuditPath(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  const sides = inclusionSides(index, size, path.length);
  if (!sides || path.some((p) => p.length !== HASH_BYTES)) return undefined;
  let r = leaf;
  for (const [i, p] of path.entries()) r = sides[i] === 'left' ? await nodeHash(p, r) : await nodeHash(r, p);
  return r;
}

/** Standard base64 (RFC 4648 §4, as the API writes hashes) to bytes; undefined when it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);
