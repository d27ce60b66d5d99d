import fs from 'node:fs';
import path from 'node:path';
import type { CloseResult } from './bench-close';
import type { DelegationResult } from './bench-delegation';
import type { DirectVaultResult } from './bench-grants';
import type { KitResult } from './bench-kit';
import type { LineageResult } from './bench-lineage';
import { type LoadResult, round } from './bench-load';

type CpuPerOp = Record<string, number | null>;
type Measured = LoadResult & { cpuPerOp?: CpuPerOp };

/** The broker against the same Vault work done directly, in the same run. */
export interface Comparison {
  broker: Measured;
  direct: DirectVaultResult & { cpuPerOp?: CpuPerOp };
}

/** Everything measured against one Vault (the dev Vault standalone, or OpenBao). */
export interface VaultRun {
  version: string;
  kv?: Comparison;
  db?: Comparison;
  redeem?: Comparison;
  /** kv grants on a task whose grants may not delegate (no custody write): what custody costs. */
  kvNoDelegation?: Measured;
  delegation?: DelegationResult;
  memory: Array<{ pid: number; rssMb: number; peakMb: number }>;
  profile?: unknown;
}

export interface BenchRaw {
  vaults: Partial<Record<string, VaultRun>>;
  headline?: 'devvault' | 'openbao';
  close?: CloseResult;
  lineage?: LineageResult;
  kit?: KitResult;
  audit?: Record<string, number>;
  identity?: { verificationsPerSec: number };
}

const ratio = (a?: number, b?: number) => (a !== undefined && b ? round(a / b, 3) : null);

/** The flat figures of one Vault's run: ratios, latencies and throughputs under stable snake-case keys. */
export function vaultFigures(v: VaultRun) {
  const { kv, db, redeem } = v;
  return {
    ratios: {
      kv_grants_vs_vault: ratio(kv?.broker.perSec, kv?.direct.perSec),
      db_grants_vs_vault: ratio(db?.broker.perSec, db?.direct.perSec),
      redemptions_vs_vault: ratio(redeem?.broker.perSec, redeem?.direct.perSec),
      kv_p50_vs_vault: ratio(kv?.broker.p50Ms, kv?.direct.p50Ms),
      kv_p99_vs_vault: ratio(kv?.broker.p99Ms, kv?.direct.p99Ms),
      db_p50_vs_vault: ratio(db?.broker.p50Ms, db?.direct.p50Ms),
      redemption_p50_vs_vault: ratio(redeem?.broker.p50Ms, redeem?.direct.p50Ms),
      kv_grants_without_delegation_vs_vault: ratio(v.kvNoDelegation?.perSec, kv?.direct.perSec),
    },
    latency: {
      kv_grant_p50_ms: kv?.broker.p50Ms ?? null,
      kv_grant_p99_ms: kv?.broker.p99Ms ?? null,
      vault_direct_p50_ms: kv?.direct.p50Ms ?? null,
      vault_direct_p99_ms: kv?.direct.p99Ms ?? null,
      db_grant_p50_ms: db?.broker.p50Ms ?? null,
      db_grant_p99_ms: db?.broker.p99Ms ?? null,
      vault_direct_db_p50_ms: db?.direct.p50Ms ?? null,
      vault_direct_db_p99_ms: db?.direct.p99Ms ?? null,
      redemption_p50_ms: redeem?.broker.p50Ms ?? null,
      redemption_p99_ms: redeem?.broker.p99Ms ?? null,
      vault_direct_redemption_p50_ms: redeem?.direct.p50Ms ?? null,
    },
    throughput: {
      kv_grants_per_s: kv?.broker.perSec ?? null,
      vault_direct_kv_per_s: kv?.direct.perSec ?? null,
      db_grants_per_s: db?.broker.perSec ?? null,
      vault_direct_db_per_s: db?.direct.perSec ?? null,
      redemptions_per_s: redeem?.broker.perSec ?? null,
      vault_direct_redemption_per_s: redeem?.direct.perSec ?? null,
      kv_grants_without_delegation_per_s: v.kvNoDelegation?.perSec ?? null,
    },
    /** CPU milliseconds per operation, by process (broker workers, Vault, PostgreSQL, load generator). */
    cpu_per_op: {
      kv_grant: kv?.broker.cpuPerOp ?? null,
      vault_direct_kv: kv?.direct.cpuPerOp ?? null,
      db_grant: db?.broker.cpuPerOp ?? null,
      vault_direct_db: db?.direct.cpuPerOp ?? null,
      redemption: redeem?.broker.cpuPerOp ?? null,
      vault_direct_redemption: redeem?.direct.cpuPerOp ?? null,
      kv_grant_without_delegation: v.kvNoDelegation?.cpuPerOp ?? null,
    },
    broker: {
      rss_peak_mb: v.memory.length ? Math.max(...v.memory.map((m) => m.peakMb)) : null,
      rss_peak_mb_per_worker: v.memory.map((m) => m.peakMb),
    },
  };
}

/** `.bench/results.json`: the headline Vault's figures at the top (the keys the issue names), every Vault's below. */
export function resultsJson(raw: BenchRaw, meta: Record<string, unknown>) {
  const headline = raw.headline ? raw.vaults[raw.headline] : undefined;
  const top = headline ? vaultFigures(headline) : undefined;
  const c = raw.close;
  const l = raw.lineage;
  const k = raw.kit;
  return {
    ...meta,
    headline_vault: raw.headline ? `${raw.headline} (${headline?.version})` : null,
    ratios: top?.ratios ?? {},
    latency: top?.latency ?? {},
    throughput: top?.throughput ?? {},
    cpu_per_op: top?.cpu_per_op ?? {},
    close: c
      ? {
          grants: c.grants,
          depth: c.depth,
          returned_ms: c.returnedMs,
          all_revoked_ms: c.allRevokedMs,
          task_closed_ms: c.taskClosedMs,
          active_at_return: c.activeAtReturn,
          sample_inactive_at_return: c.sampleInactiveAtReturn,
          introspected_inactive: c.introspectedInactive,
          build_grants_per_s: c.buildPerSec,
          receipt_complete: c.receiptComplete,
        }
      : {},
    lineage: l
      ? { depth: l.depth, grants_in_db: l.grantsInDb, median_ms: l.medianMs, p90_ms: l.p90Ms, calls: l.calls }
      : {},
    audit: raw.audit ?? {},
    broker: top?.broker ?? {},
    kit: k
      ? {
          refusal_after_close_p50_ms: k.refusalAfterCloseP50Ms,
          refusal_after_close_p99_ms: k.refusalAfterCloseP99Ms,
          refusal_from_close_call_p50_ms: k.refusalFromCallP50Ms,
          refusal_from_close_call_p99_ms: k.refusalFromCallP99Ms,
          closes: k.closes,
          refused_from_feed: k.fromFeed,
        }
      : {},
    identity: raw.identity ? { jwt_svid_verifications_per_s: raw.identity.verificationsPerSec } : {},
    vaults: Object.fromEntries(
      Object.entries(raw.vaults).map(([name, v]) => [name, { version: v!.version, ...vaultFigures(v!) }]),
    ),
    details: raw,
  };
}

export type BenchResults = ReturnType<typeof resultsJson>;

export function writeResults(results: unknown, dir = '.bench'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'results.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
