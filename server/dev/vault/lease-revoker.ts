import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Lease, LeaseStore } from './lease-store';

export interface RetryPolicy {
  /** Vault gives up after 6 failed attempts (spec §3.3). */
  attempts: number;
  /** Delay after the n-th failure is `2^n × baseDelayMs` (Vault: 10 s). */
  baseDelayMs: number;
}

export interface RevokerDeps {
  clock: Clock;
  logger: Logger;
  retry: RetryPolicy;
}

/** The part of Vault's expiration manager that revokes: one attempt at a time per lease, with retries. */
export function createRevoker(deps: RevokerDeps, store: LeaseStore) {
  const inflight = new Set<Promise<boolean>>();
  const log = deps.logger;

  function recordFailure(lease: Lease, err: unknown): void {
    lease.revokeAttempts += 1;
    lease.revokeError = err instanceof Error ? err.message : String(err);
    const fields = { leaseId: lease.id, attempts: lease.revokeAttempts, error: lease.revokeError };
    if (lease.revokeAttempts >= deps.retry.attempts) {
      lease.irrevocable = true;
      lease.nextAttemptMs = null;
      log.error(fields, 'lease revocation failed; lease is now irrevocable');
      return;
    }
    lease.nextAttemptMs = deps.clock.now().getTime() + 2 ** lease.revokeAttempts * deps.retry.baseDelayMs;
    log.warn(fields, 'lease revocation failed; will retry');
  }

  async function run(lease: Lease): Promise<boolean> {
    try {
      await lease.backend.revoke(lease);
      store.forget(lease);
      log.info({ leaseId: lease.id }, 'lease revoked');
      return true;
    } catch (err) {
      recordFailure(lease, err);
      return false;
    } finally {
      lease.inFlight = null;
    }
  }

  /** Starts (or joins) a revocation attempt; resolves true once the lease is gone. */
  function attempt(lease: Lease): Promise<boolean> {
    if (lease.inFlight) return lease.inFlight;
    const p = run(lease);
    lease.inFlight = p;
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return p;
  }

  async function drain(): Promise<void> {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }

  return { attempt, drain };
}

export type Revoker = ReturnType<typeof createRevoker>;
