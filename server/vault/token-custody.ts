import type { VaultAdapter } from './vault.types';

export type CustodyKind = 'task' | 'grant';

/**
 * Task and grant tokens must outlive the request that made them (a grant is minted as a child of its
 * task's token, a delegated grant as a child of its parent's token), on whichever broker replica serves
 * the next request. PostgreSQL may only hold accessors, so the token values are kept in Vault itself, in
 * KV v2 under a path only the broker's policy can read, and discarded when the token is revoked.
 */
export interface TokenCustody {
  keep(kind: CustodyKind, id: string, token: string): Promise<void>;
  fetch(kind: CustodyKind, id: string): Promise<string>;
  discard(kind: CustodyKind, id: string): Promise<void>;
}

const MAX_CACHED = 10_000;

/**
 * Whether a grant's token value must be kept: only a grant that may still delegate is ever a parent.
 * Minting keeps exactly these, and revocation discards exactly these (one rule for both).
 */
export const grantNeedsCustody = (g: { depth: number; mayRedelegate: boolean }, maxDepth: number): boolean =>
  g.mayRedelegate && g.depth < maxDepth;

export function createTokenCustody(
  vault: VaultAdapter,
  opts: { brokerToken: string; mount?: string; prefix?: string },
): TokenCustody {
  const mount = opts.mount ?? 'secret';
  const prefix = opts.prefix ?? 'grantline/custody';
  const pathOf = (kind: CustodyKind, id: string) => `${mount}/data/${prefix}/${kind}/${id}`;
  // Only saves a KV read per grant; correctness never depends on it (a miss reads Vault).
  const cache = new Map<string, string>();
  const remember = (key: string, token: string) => {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(key, token);
  };

  return {
    async keep(kind, id, token) {
      await vault.write(pathOf(kind, id), { data: { token } });
      remember(`${kind}/${id}`, token);
    },
    async fetch(kind, id) {
      const cached = cache.get(`${kind}/${id}`);
      if (cached) return cached;
      const data = await vault.readKv(opts.brokerToken, pathOf(kind, id));
      if (typeof data.token !== 'string' || data.token.length === 0) {
        throw new Error(`no ${kind} token in custody for ${id}`);
      }
      remember(`${kind}/${id}`, data.token);
      return data.token;
    },
    async discard(kind, id) {
      cache.delete(`${kind}/${id}`);
      // Overwrite rather than delete: the value is dead already (revoked), and KV v2 keeps the version
      // history either way; what matters is that no live token value remains readable.
      await vault.write(pathOf(kind, id), { data: { revoked: true } });
    },
  };
}
