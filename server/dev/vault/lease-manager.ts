import { createRevoker, type RevokerDeps } from './lease-revoker';
import { createLeaseStore, type Lease, newLease, type RegisterLease } from './lease-store';
import { calculateTtl, remainingSeconds } from './ttl-math';
import { invalidRequest } from './vault-error';

/** Renews a lease as Vault's expiration manager does (checks in `leaseEntry.renewable()` order, §3.2). */
export async function renewLease(lease: Lease | undefined, increment: number, nowMs: number) {
  if (!lease) throw invalidRequest('lease not found');
  if (lease.irrevocable) throw invalidRequest('lease is expired and has failed previous revocation attempts');
  if (lease.revoking || lease.expireAtMs <= nowMs) throw invalidRequest('lease expired');
  if (!lease.renewable) throw invalidRequest('lease is not renewable');
  const { ttl, warnings } = calculateTtl({
    increment,
    backendTtl: lease.ttl,
    backendMaxTtl: lease.maxTtl,
    explicitMaxTtl: 0,
    startMs: lease.issueMs,
    nowMs,
  });
  const expireAtMs = nowMs + ttl * 1000;
  try {
    await lease.backend.renew(lease, expireAtMs);
  } catch (err) {
    throw invalidRequest(`failed to renew entry: ${(err as Error).message}`);
  }
  lease.expireAtMs = expireAtMs;
  lease.lastRenewalMs = nowMs;
  return { ttl, warnings };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `sys/leases/lookup` data; `revoke_error` as OpenBao shows it, plus the retry state (dev-vault extras). */
export function leaseLookupData(lease: Lease, nowMs: number): Record<string, unknown> {
  const expired = lease.revoking || lease.expireAtMs <= nowMs;
  const data: Record<string, unknown> = {
    id: lease.id,
    issue_time: iso(lease.issueMs),
    expire_time: iso(lease.expireAtMs),
    last_renewal: iso(lease.lastRenewalMs),
    renewable: lease.renewable && !expired && !lease.irrevocable,
    ttl: remainingSeconds(lease.expireAtMs, nowMs),
    path: lease.path,
  };
  if (lease.revokeError !== null) {
    data.revoke_error = lease.revokeError;
    data.revoke_attempts = lease.revokeAttempts;
    data.irrevocable = lease.irrevocable;
  }
  return data;
}

const withSlash = (prefix: string): string => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);

export interface LeaseManagerDeps extends RevokerDeps {}

/** Leases of dynamic secrets: register, look up, renew, revoke (sync, queued, by prefix, forced), expire. */
export function createLeaseManager(deps: LeaseManagerDeps) {
  const store = createLeaseStore();
  const revoker = createRevoker(deps, store);
  const now = (): number => deps.clock.now().getTime();

  /** A prefix without a trailing slash that is itself a lease id selects just that lease (as in Vault). */
  function select(prefix: string): Lease[] {
    const exact = store.leases.get(prefix);
    return exact ? [exact] : store.matching(withSlash(prefix));
  }

  /** Queues a revocation and starts it at once without waiting (Vault's `lazyRevoke`, spec §2.5). */
  function revokeQueued(lease: Lease): void {
    lease.revoking = true;
    lease.expireAtMs = Math.min(lease.expireAtMs, now());
    if (!lease.irrevocable) void revoker.attempt(lease);
  }

  return {
    register(opts: RegisterLease): Lease {
      const lease = newLease(opts, now());
      store.add(lease);
      return lease;
    },
    lookup: (id: string): Lease | undefined => store.leases.get(id),
    renew: (id: string, increment: number) => renewLease(store.leases.get(id), increment, now()),
    /** Sync revoke (spec §3.2): unknown → no-op; a backend failure → 400 and the lease goes on retrying. */
    async revoke(id: string): Promise<void> {
      const lease = store.leases.get(id);
      if (!lease) return;
      lease.revoking = true;
      if (!(await revoker.attempt(lease)))
        throw invalidRequest(`failed to revoke entry: ${lease.revokeError}`);
    },
    revokeQueuedById(id: string): void {
      const lease = store.leases.get(id);
      if (lease) revokeQueued(lease);
    },
    async revokePrefix(prefix: string, sync: boolean): Promise<void> {
      const leases = select(prefix);
      if (!sync) return leases.forEach(revokeQueued);
      for (const l of leases) l.revoking = true;
      const results = await Promise.all(leases.map((l) => revoker.attempt(l)));
      const failed = results.findIndex((r) => !r);
      if (failed >= 0) {
        const l = leases[failed]!;
        throw invalidRequest(
          `failed to revoke "${l.id}" (${failed + 1} / ${leases.length}): ${l.revokeError}`,
        );
      }
    },
    /** Tries the backend once, ignores its failure and deletes the entries anyway (spec §3.2). */
    async revokeForce(prefix: string): Promise<void> {
      const leases = select(prefix);
      await Promise.all(leases.map((l) => revoker.attempt(l)));
      for (const l of leases) {
        if (store.leases.has(l.id))
          deps.logger.warn({ leaseId: l.id }, 'lease force-revoked despite backend error');
        store.forget(l);
      }
    },
    revokeForTokens(tokenIds: string[]): void {
      for (const t of tokenIds) {
        for (const id of store.byToken.get(t) ?? []) {
          const lease = store.leases.get(id);
          if (lease) revokeQueued(lease);
        }
        store.byToken.delete(t);
      }
    },
    /** Immediate children of `prefix`, folders with a trailing slash (LIST sys/leases/lookup/…). */
    list(prefix: string): string[] {
      const p = withSlash(prefix);
      const keys = new Set<string>();
      for (const id of store.leases.keys()) {
        if (!id.startsWith(p)) continue;
        const rest = id.slice(p.length);
        const slash = rest.indexOf('/');
        keys.add(slash >= 0 ? rest.slice(0, slash + 1) : rest);
      }
      return [...keys].sort();
    },
    /** Revokes expired leases and retries failed revocations whose back-off has passed. */
    async processDue(): Promise<void> {
      const at = now();
      const due = [...store.leases.values()].filter(
        (l) =>
          !l.irrevocable &&
          !l.inFlight &&
          (l.nextAttemptMs !== null ? l.nextAttemptMs <= at : l.expireAtMs <= at),
      );
      await Promise.all(due.map((l) => revoker.attempt(l)));
      await revoker.drain();
    },
    drain: () => revoker.drain(),
    all: (): Lease[] => [...store.leases.values()],
    clear: () => store.clear(),
  };
}

export type LeaseManager = ReturnType<typeof createLeaseManager>;
