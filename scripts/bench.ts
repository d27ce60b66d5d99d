// Must stay the first import: it sets a V8 flag before any server module is loaded.
import './bench-v8-flags';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../server/shared/logger';
import { benchAudit } from './bench-audit';
import { type CheckpointLatency, startCheckpointLatencyProbe } from './bench-audit-latency';
import { benchClose } from './bench-close';
import { benchDelegation } from './bench-delegation';
import { benchBrokerGrants, benchDirectVault } from './bench-grants';
import { type BenchBroker, dropScratch, serverUrl, startBenchBroker } from './bench-harness';
import { benchIdentity } from './bench-identity';
import { benchLineage } from './bench-lineage';
import { round } from './bench-load';
import { type BenchResults, compare, formatSummary, writeResults } from './bench-report';
import { benchVault } from './bench-vault';

/**
 * `npm run bench`: one bounded run measuring the broker end to end (grants, close, delegation, lineage,
 * subtree revocation) against the same Vault work done directly, then the Vault adapter, JWT-SVID
 * verification and the audit log on their own. Prints progress per phase, a summary table, and writes
 * `.bench/results.json`. Knobs (env): BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_CLOSE_GRANTS, BENCH_FANOUT,
 * BENCH_FILLER, BENCH_MAX_SECONDS; the PostgreSQL server is BENCH_DATABASE_URL / TEST_DATABASE_URL.
 */

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

const settings = {
  loadSeconds: num('BENCH_SECONDS', 10),
  concurrency: num('BENCH_CONCURRENCY', 16),
  closeGrants: num('BENCH_CLOSE_GRANTS', 1000),
  fanout: Math.min(num('BENCH_FANOUT', 1000), 1000),
  filler: num('BENCH_FILLER', 100_000),
  chainDepth: 10,
  lineageCalls: 50,
  vaultSeconds: num('BENCH_VAULT_SECONDS', 5),
  identitySeconds: 3,
  auditAppendSeconds: 3,
  auditEvents: num('BENCH_AUDIT_EVENTS', 1_000_000),
  // The audit phase builds a log of 1,000,000 events (issue 13's proof figure): about a minute more.
  maxSeconds: num('BENCH_MAX_SECONDS', 480),
};

const started = performance.now();
const elapsed = () => round((performance.now() - started) / 1000);
const progress = (msg: string) => console.log(`[bench +${elapsed().toFixed(1)}s] ${msg}`);

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
  settings,
  grants: {},
  phaseSeconds: {},
  brokerWarnings: 0,
};

let broker: BenchBroker | undefined;
let checkpointLatency: CheckpointLatency | undefined;

async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await run();
  results.phaseSeconds[name] = round((performance.now() - t0) / 1000);
  return out;
}

async function brokerPhases(b: BenchBroker): Promise<void> {
  const load = {
    durationMs: settings.loadSeconds * 1000,
    concurrency: settings.concurrency,
    cleanupTimeoutMs: 90_000,
  };
  const scopes = ['kv:demo/api-key', 'db:demo:read'] as const;
  const brokerSide = await phase('1-broker-grants', async () => {
    // Commit → signed checkpoint, measured while the grants load runs (issue 13: p95 ≤ 1 s).
    const probe = startCheckpointLatencyProbe(b.db.db);
    const out = [];
    try {
      for (const scope of scopes) {
        progress(
          `phase 1/5: broker grants ${scope}, ${load.concurrency} agents, ${settings.loadSeconds}s (then close + revoke)`,
        );
        out.push(await benchBrokerGrants(b, scope, load));
        progress(
          `  ${scope}: ${out.at(-1)?.perSec} grants/s, p50 ${out.at(-1)?.p50Ms} ms, p99 ${out.at(-1)?.p99Ms} ms`,
        );
      }
    } finally {
      checkpointLatency = await probe.stop();
    }
    progress(
      `  commit → signed checkpoint: p50 ${checkpointLatency.p50Ms} ms, p95 ${checkpointLatency.p95Ms} ms`,
    );
    return out;
  });
  await phase('2-direct-vault', async () => {
    for (const [i, scope] of scopes.entries()) {
      progress(
        `phase 2/5: direct Vault ${scope} (child token + read), concurrency ${load.concurrency}, ${settings.loadSeconds}s`,
      );
      const direct = await benchDirectVault(b, scope, load);
      progress(`  ${scope}: ${direct.perSec} ops/s, p50 ${direct.p50Ms} ms, p99 ${direct.p99Ms} ms`);
      results.grants[scope] = compare(brokerSide[i]!, direct);
    }
  });
  progress(`phase 3/5: close of a task with ${settings.closeGrants} active kv grants`);
  results.close = await phase('3-close', () =>
    benchClose(b, { grants: settings.closeGrants, sample: 50, timeoutMs: 120_000 }),
  );
  progress(
    `  close returned ${results.close.closeReturnMs} ms, all revoked ${results.close.allRevokedMs} ms`,
  );
  progress(`phase 4/5: delegation: ${settings.fanout} offers + redemptions, then revoke the subtree`);
  results.delegation = await phase('4a-delegation', () =>
    benchDelegation(b, { fanout: settings.fanout, concurrency: settings.concurrency, timeoutMs: 120_000 }),
  );
  progress(
    `  ${results.delegation.redemptions.perSec} redemptions/s; subtree revoke returned ${results.delegation.revokeReturnMs} ms`,
  );
  progress(`phase 4/5: lineage at depth ${settings.chainDepth} with ${settings.filler} filler grants`);
  results.lineage = await phase('4b-lineage', () =>
    benchLineage(b, { depth: settings.chainDepth, filler: settings.filler, calls: settings.lineageCalls }),
  );
  progress(`  lineage median ${results.lineage.medianMs} ms over ${results.lineage.grantsInDb} grants`);
}

async function componentPhases(url: string): Promise<void> {
  const quiet = createLogger({ level: 'warn' }, { write: () => undefined });
  progress(
    `phase 5/5: Vault adapter (tokens, dynamic creds), ${settings.vaultSeconds}s each, concurrency ${settings.concurrency}`,
  );
  results.vault = await phase('5a-vault', () =>
    benchVault({
      durationMs: settings.vaultSeconds * 1000,
      concurrency: settings.concurrency,
      logger: quiet,
      databaseUrl: url,
    }),
  );
  progress(`phase 5/5: JWT-SVID verification, ${settings.identitySeconds}s`);
  results.identity = await phase('5b-identity', () =>
    benchIdentity({ durationMs: settings.identitySeconds * 1000 }),
  );
  progress(
    `phase 5/5: audit log appends (1 and 8 writers), then verification and proofs among ${settings.auditEvents} events`,
  );
  const audit = await phase('5c-audit', () =>
    benchAudit({ url, appendSeconds: settings.auditAppendSeconds, events: settings.auditEvents }),
  );
  results.audit = {
    ...audit,
    ...(checkpointLatency
      ? {
          checkpoint_latency_p50_ms: checkpointLatency.p50Ms,
          checkpoint_latency_p95_ms: checkpointLatency.p95Ms,
          checkpoint_latency_samples: checkpointLatency.samples,
        }
      : {}),
  };
}

let finished = false;

function finish(code: number): void {
  if (finished) return;
  finished = true;
  results.totalSeconds = elapsed();
  console.log(formatSummary(results));
  console.log(`results written to ${writeResults(results)}`);
  process.exitCode = code;
  // Anything still holding the event loop (sockets, pools) must not keep the bench alive.
  setTimeout(() => process.exit(code), 2000).unref();
}

/** Last resort: the run overstayed its bound; stop the broker (which drops its databases), report, exit. */
function startWatchdog(url: string): void {
  setTimeout(() => {
    results.error = `stopped by the watchdog after ${settings.maxSeconds}s`;
    console.error(`bench: ${results.error}`);
    const b = broker;
    const stop = b ? b.stop().catch(() => dropScratch(url, b.dbName, b.demoDatabase)) : Promise.resolve();
    const bounded = Promise.race([stop, new Promise((r) => setTimeout(r, 20_000))]);
    void bounded
      .catch((err: unknown) => console.error(`bench: cleanup failed: ${(err as Error).message}`))
      .finally(() => {
        finish(2);
        setTimeout(() => process.exit(2), 500);
      });
  }, settings.maxSeconds * 1000).unref();
}

async function main(): Promise<void> {
  const url = serverUrl();
  startWatchdog(url);
  let code = 0;
  try {
    progress(`starting a broker in-process on a scratch database (${new URL(url).host})`);
    broker = await startBenchBroker(url);
    try {
      await brokerPhases(broker);
    } finally {
      const warnings = broker.warnings;
      results.brokerWarnings = warnings.length;
      for (const w of warnings.slice(0, 5)) console.error(`broker warning: ${w.trim().slice(0, 300)}`);
      progress('stopping the broker and dropping its scratch databases');
      await broker.stop();
      broker = undefined;
    }
    await componentPhases(url);
  } catch (err) {
    results.error = (err as Error).stack ?? String(err);
    console.error(`bench failed: ${results.error}`);
    code = 1;
  }
  finish(code);
}

void main();
