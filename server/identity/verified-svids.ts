import type { JWTPayload } from 'jose';
import type { Principal } from './identity.types';
import type { TrustBundle } from './trust-bundle';

/** A JWT-SVID that passed every check: what it proved, and the bundle whose key proved it. */
export interface VerifiedSvid {
  principal: Principal;
  payload: JWTPayload;
  bundle: TrustBundle;
}

/**
 * JWT-SVIDs already verified, by their exact bytes. A workload presents the same SVID on every call until
 * it rotates it (SPIRE: minutes), and checking its signature again proves nothing new: the same bytes
 * under the same keys give the same answer. What can change is time and the keys, so the caller re-checks
 * the time claims on every hit and uses an entry only while its trust domain's bundle is the very one
 * that verified it (a refreshed bundle, a removed key, a domain no longer trusted: verified afresh).
 * Bounded: the oldest entry goes first; an entry past its `exp` is dropped when met.
 */
export function createVerifiedSvids(maxEntries: number) {
  const entries = new Map<string, VerifiedSvid>();
  return {
    get: (token: string): VerifiedSvid | undefined => entries.get(token),
    set(token: string, v: VerifiedSvid): void {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(token, v);
    },
    drop: (token: string): void => void entries.delete(token),
    get size() {
      return entries.size;
    },
  };
}
