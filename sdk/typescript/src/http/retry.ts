import { BrokerError, BrokerUnreachableError, UnavailableError } from '../errors';

/**
 * Which failures a call may be repeated after:
 * - `idempotent`: reads, introspection, close and revoke (doing them twice changes nothing more): network
 *   failures, timeouts, 502, 503 and 504;
 * - `if-nothing-happened`: calls that create something (open a task, request a grant, redeem a
 *   delegation, record an approval): only the broker's own 503 `unavailable`, which promises that nothing
 *   was issued or changed (a failed mint is rolled back and a redeemed offer released). A timeout or a reset
 *   connection leaves the outcome unknown, so it is never retried: the caller decides.
 * - `never`.
 */
export type RetryMode = 'idempotent' | 'if-nothing-happened' | 'never';

export interface RetryPolicy {
  /** Total tries, the first included (default 3). */
  attempts: number;
  /** Backoff base: try n waits a random time in [0, base·2ⁿ] ("full jitter"), at most maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

export function isRetryable(mode: RetryMode, err: unknown): boolean {
  if (mode === 'never') return false;
  if (mode === 'if-nothing-happened') return err instanceof UnavailableError;
  if (err instanceof BrokerUnreachableError) return true;
  return err instanceof BrokerError && [502, 503, 504].includes(err.status);
}

/** How long to wait before try `attempt` + 1 (attempt counts from 1). Honours Retry-After, capped. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  err: unknown,
  random = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * exponential);
  const asked = err instanceof BrokerError && err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : 0;
  return Math.min(policy.maxDelayMs, Math.max(jittered, asked));
}

/** Runs `fn` until it succeeds, the error is not retryable in `mode`, or the attempts are spent. */
export async function withRetries<T>(
  mode: RetryMode,
  policy: RetryPolicy,
  fn: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.attempts || !isRetryable(mode, err)) throw err;
      await sleep(backoffDelay(policy, attempt, err));
    }
  }
}
