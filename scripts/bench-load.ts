import { performance } from 'node:perf_hooks';

export interface LoadResult {
  /** Successful operations. */
  ops: number;
  errors: number;
  seconds: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Event-loop utilisation of this process (broker, dev Vault and load generator share it) during the run, 0..1. */
  eventLoopUtilization: number;
  /** The first error's message, when there were errors. */
  firstError?: string;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop claiming new operations after this long. */
  durationMs: number;
  /** Stop after this many operations were claimed (a fixed amount of work). */
  total?: number;
  /** `worker` is 0..concurrency-1, `index` the claimed operation's number (0-based). */
  op: (worker: number, index: number) => Promise<void>;
}

// Hard cap so a loop stops even if the clock misbehaves.
const MAX_OPS = 500_000;
// A phase that only fails is pointless to keep hammering: stop once errors pass this and outnumber successes.
const ERROR_BUDGET = 50;

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return round(sorted[i] ?? 0, 2);
}

export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Runs `op` from `concurrency` workers until the deadline, the `total` or the error budget is reached.
 * Latency is recorded per successful operation; throughput counts successes over the wall time.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const limit = Math.min(o.total ?? MAX_OPS, MAX_OPS);
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const deadline = started + o.durationMs;
  let claimed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const failing = () => errors > ERROR_BUDGET && errors > latencies.length;
  const worker = async (w: number) => {
    while (claimed < limit && performance.now() < deadline && !failing()) {
      const index = claimed++;
      const t0 = performance.now();
      try {
        await o.op(w, index);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors += 1;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    seconds: round(seconds, 2),
    perSec: round(latencies.length / seconds),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    eventLoopUtilization: round(performance.eventLoopUtilization(elu).utilization, 2),
    ...(firstError ? { firstError } : {}),
  };
}

/** Polls `check` every `stepMs` until it returns true; returns the elapsed ms since `since`, or null on timeout. */
export async function waitUntil(
  check: () => Promise<boolean>,
  o: { since: number; timeoutMs: number; stepMs?: number },
): Promise<number | null> {
  const end = performance.now() + o.timeoutMs;
  for (;;) {
    if (await check()) return round(performance.now() - o.since);
    if (performance.now() > end) return null;
    await new Promise((r) => setTimeout(r, o.stepMs ?? 50));
  }
}
