import type { Clock } from '../../shared/clock';
import { newAccessor } from './random-ids';
import { calculateTtl } from './ttl-math';
import { invalidRequest } from './vault-error';

export interface TokenEntry {
  id: string;
  accessor: string;
  /** null for orphans (create-orphan, no_parent, the root token) */
  parentId: string | null;
  policies: string[];
  meta: Record<string, string> | null;
  displayName: string;
  /** Remaining uses; 0 = unlimited. */
  numUses: number;
  renewable: boolean;
  path: string;
  creationMs: number;
  creationTtl: number;
  explicitMaxTtl: number;
  /** null = never expires (root-policy tokens created without a TTL). */
  expireAtMs: number | null;
  lastRenewalMs: number | null;
  /** Its last use was spent; it is revoked as soon as that request ends. */
  exhausted: boolean;
  children: Set<string>;
}

export interface CreateTokenRequest {
  id: string;
  policies: string[];
  ttl: number;
  explicitMaxTtl: number;
  numUses: number;
  renewable: boolean;
  meta: Record<string, string> | null;
  displayName: string;
  path: string;
  parent: TokenEntry | null;
}

export interface TokenStore {
  createRoot(id: string): TokenEntry;
  create(req: CreateTokenRequest): { entry: TokenEntry; warnings: string[] };
  /** The live token, or undefined when unknown, expired or under an expired ancestor (which it revokes). */
  lookup(id: string): TokenEntry | undefined;
  lookupAccessor(accessor: string): TokenEntry | undefined;
  /** Revokes the token and its whole subtree (spec §2.5); unknown ids are a no-op. */
  revoke(id: string): void;
  /** Revokes only this token; its children become orphans (spec §2.4). */
  revokeOrphan(id: string): void;
  renew(entry: TokenEntry, increment: number): { ttl: number; warnings: string[] };
  /** Counts one use; true when that was the last one and the token must be revoked after the request. */
  consumeUse(entry: TokenEntry): boolean;
  expireDue(): void;
  all(): TokenEntry[];
  clear(): void;
}

export interface TokenStoreDeps {
  clock: Clock;
  /** Called with every token id a revocation removed, so their leases get revoked too. */
  onRevoked(tokenIds: string[]): void;
}

const isExpired = (t: TokenEntry, nowMs: number): boolean => t.expireAtMs !== null && t.expireAtMs <= nowMs;

export function createTokenStore(deps: TokenStoreDeps): TokenStore {
  const byId = new Map<string, TokenEntry>();
  const byAccessor = new Map<string, string>();
  const now = (): number => deps.clock.now().getTime();

  function insert(entry: TokenEntry): TokenEntry {
    byId.set(entry.id, entry);
    byAccessor.set(entry.accessor, entry.id);
    if (entry.parentId) byId.get(entry.parentId)?.children.add(entry.id);
    return entry;
  }

  function collectSubtree(id: string, out: string[]): void {
    const entry = byId.get(id);
    if (!entry) return;
    for (const child of entry.children) collectSubtree(child, out);
    out.push(id);
  }

  function remove(id: string): void {
    const entry = byId.get(id);
    if (!entry) return;
    byId.delete(id);
    byAccessor.delete(entry.accessor);
    if (entry.parentId) byId.get(entry.parentId)?.children.delete(id);
  }

  function revoke(id: string): void {
    const ids: string[] = [];
    collectSubtree(id, ids);
    if (ids.length === 0) return;
    for (const t of ids) remove(t);
    deps.onRevoked(ids);
  }

  function lookup(id: string): TokenEntry | undefined {
    const entry = byId.get(id);
    if (!entry || entry.exhausted) return undefined;
    const at = now();
    let dead: TokenEntry | undefined;
    for (let t: TokenEntry | undefined = entry; t; t = t.parentId ? byId.get(t.parentId) : undefined) {
      if (isExpired(t, at)) dead = t;
    }
    if (!dead) return entry;
    revoke(dead.id);
    return undefined;
  }

  function create(req: CreateTokenRequest): { entry: TokenEntry; warnings: string[] } {
    const at = now();
    const isRootPolicy = req.policies.length === 1 && req.policies[0] === 'root';
    let ttl = 0;
    let warnings: string[] = [];
    // Vault computes a TTL unless this is a root-policy token created without one (spec §2.1).
    if (req.ttl > 0 || !isRootPolicy) {
      ({ ttl, warnings } = calculateTtl({
        increment: 0,
        backendTtl: req.ttl,
        backendMaxTtl: 0,
        explicitMaxTtl: req.explicitMaxTtl,
        startMs: at,
        nowMs: at,
      }));
    }
    const entry = insert({
      id: req.id,
      accessor: newAccessor(),
      parentId: req.parent?.id ?? null,
      policies: req.policies,
      meta: req.meta,
      displayName: req.displayName,
      numUses: req.numUses,
      renewable: ttl > 0 && req.renewable,
      path: req.path,
      creationMs: at,
      creationTtl: ttl,
      explicitMaxTtl: req.explicitMaxTtl,
      expireAtMs: ttl > 0 ? at + ttl * 1000 : null,
      lastRenewalMs: null,
      exhausted: false,
      children: new Set(),
    });
    return { entry, warnings };
  }

  /** Vault's `leaseEntry.renewable()` checks, in its order (spec §2.3). */
  function renew(entry: TokenEntry, increment: number): { ttl: number; warnings: string[] } {
    const at = now();
    if (entry.expireAtMs === null) throw invalidRequest('lease is not renewable');
    if (isExpired(entry, at)) throw invalidRequest('lease expired');
    if (!entry.renewable) throw invalidRequest('lease is not renewable');
    const result = calculateTtl({
      increment,
      backendTtl: entry.creationTtl,
      backendMaxTtl: 0,
      explicitMaxTtl: entry.explicitMaxTtl,
      startMs: entry.creationMs,
      nowMs: at,
    });
    entry.expireAtMs = at + result.ttl * 1000;
    entry.lastRenewalMs = at;
    return result;
  }

  return {
    createRoot: (id) =>
      insert({
        id,
        accessor: newAccessor(),
        parentId: null,
        policies: ['root'],
        meta: null,
        // OpenBao's dev root token: display name `token`, created on auth/token/create.
        displayName: 'token',
        numUses: 0,
        renewable: false,
        path: 'auth/token/create',
        creationMs: now(),
        creationTtl: 0,
        explicitMaxTtl: 0,
        expireAtMs: null,
        lastRenewalMs: null,
        exhausted: false,
        children: new Set(),
      }),
    create,
    lookup,
    lookupAccessor(accessor) {
      const id = byAccessor.get(accessor);
      return id === undefined ? undefined : lookup(id);
    },
    revoke,
    revokeOrphan(id) {
      const entry = byId.get(id);
      if (!entry) return;
      for (const child of entry.children) {
        const c = byId.get(child);
        if (c) c.parentId = null;
      }
      entry.children.clear();
      remove(id);
      deps.onRevoked([id]);
    },
    renew,
    consumeUse(entry) {
      if (entry.numUses === 0) return false;
      entry.numUses -= 1;
      entry.exhausted = entry.numUses === 0;
      return entry.exhausted;
    },
    expireDue() {
      const at = now();
      for (const entry of [...byId.values()])
        if (byId.has(entry.id) && isExpired(entry, at)) revoke(entry.id);
    },
    all: () => [...byId.values()],
    clear() {
      byId.clear();
      byAccessor.clear();
    },
  };
}
