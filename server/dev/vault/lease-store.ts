import { newLeaseSuffix } from './random-ids';

/** What a secrets engine does when one of its leases is revoked or renewed. */
export interface LeaseBackend {
  revoke(lease: Lease): Promise<void>;
  renew(lease: Lease, expireAtMs: number): Promise<void>;
}

export interface Lease {
  id: string;
  /** The creating request path, e.g. `database/creds/readonly` (spec §3.1). */
  path: string;
  /** The token that created it: revoking that token (or an ancestor) revokes this lease (spec §2.5). */
  tokenId: string | null;
  issueMs: number;
  expireAtMs: number;
  lastRenewalMs: number | null;
  renewable: boolean;
  /** The backend's TTL (role default_ttl) and max TTL (role max_ttl), seconds; 0 = system default. */
  ttl: number;
  maxTtl: number;
  internal: Record<string, unknown>;
  backend: LeaseBackend;
  /** Queued for revocation (its token went away, or an explicit revoke failed). */
  revoking: boolean;
  revokeAttempts: number;
  nextAttemptMs: number | null;
  revokeError: string | null;
  /** Past the retry budget: only revoke-force removes it (spec §3.3). */
  irrevocable: boolean;
  inFlight: Promise<boolean> | null;
}

export interface RegisterLease {
  path: string;
  tokenId: string | null;
  ttl: number;
  grantedTtl: number;
  maxTtl: number;
  renewable: boolean;
  internal: Record<string, unknown>;
  backend: LeaseBackend;
}

export function createLeaseStore() {
  const leases = new Map<string, Lease>();
  const byToken = new Map<string, Set<string>>();
  return {
    leases,
    byToken,
    add(lease: Lease): void {
      leases.set(lease.id, lease);
      if (!lease.tokenId) return;
      const set = byToken.get(lease.tokenId) ?? new Set<string>();
      set.add(lease.id);
      byToken.set(lease.tokenId, set);
    },
    forget(lease: Lease): void {
      if (leases.get(lease.id) === lease) leases.delete(lease.id);
      if (lease.tokenId) byToken.get(lease.tokenId)?.delete(lease.id);
    },
    matching(prefix: string): Lease[] {
      return [...leases.values()].filter((l) => l.id.startsWith(prefix));
    },
    clear(): void {
      leases.clear();
      byToken.clear();
    },
  };
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;

export function newLease(opts: RegisterLease, nowMs: number): Lease {
  return {
    id: `${opts.path}/${newLeaseSuffix()}`,
    path: opts.path,
    tokenId: opts.tokenId,
    issueMs: nowMs,
    expireAtMs: nowMs + opts.grantedTtl * 1000,
    lastRenewalMs: null,
    renewable: opts.renewable,
    ttl: opts.ttl,
    maxTtl: opts.maxTtl,
    internal: opts.internal,
    backend: opts.backend,
    revoking: false,
    revokeAttempts: 0,
    nextAttemptMs: null,
    revokeError: null,
    irrevocable: false,
    inFlight: null,
  };
}
