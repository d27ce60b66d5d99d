import os from 'node:os';
import type { VaultKind } from './bench-processes';

/** What one `npm run bench` run does; BENCH_QUICK=1 is the same run, shorter, with the same keys. */
export interface BenchSettings {
  quick: boolean;
  /** Broker worker processes (`grantline serve --workers N`). */
  workers: number;
  /** Concurrent agents (and concurrent direct Vault workers). */
  concurrency: number;
  /** Length of each measured load phase (broker kv, direct kv, broker db, …). */
  loadSeconds: number;
  /** Delegation offers made before the redemption phase (it stops early when they run out). */
  offers: number;
  closeGrants: number;
  /** Deepest level of the close phase's delegation trees: levels 0..closeDepth. */
  closeDepth: number;
  lineageDepth: number;
  /** Grants in the database when lineage is timed (filler is bulk-loaded up to it). */
  lineageGrants: number;
  lineageCalls: number;
  kitCloses: number;
  auditSeconds: number;
  auditEvents: number;
  identitySeconds: number;
  vaults: VaultKind[];
  /** Only these phases (BENCH_ONLY=kv,db,redeem,kit,close,lineage,audit,identity), e.g. for a profile. */
  only: string[] | null;
  profile: boolean;
  maxSeconds: number;
}

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

export function benchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const only = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()) : null;
  return {
    quick,
    workers: num('BENCH_WORKERS', os.availableParallelism()),
    concurrency: num('BENCH_CONCURRENCY', 16),
    loadSeconds: num('BENCH_SECONDS', quick ? 3 : 15),
    offers: num('BENCH_OFFERS', quick ? 1500 : 8000),
    closeGrants: num('BENCH_CLOSE_GRANTS', quick ? 1000 : 10_000),
    closeDepth: 4,
    lineageDepth: 20,
    lineageGrants: num('BENCH_LINEAGE_GRANTS', quick ? 100_000 : 1_000_000),
    lineageCalls: quick ? 20 : 50,
    kitCloses: quick ? 20 : 100,
    auditSeconds: quick ? 1 : 3,
    auditEvents: num('BENCH_AUDIT_EVENTS', quick ? 20_000 : 100_000),
    identitySeconds: quick ? 1 : 3,
    vaults: (env.BENCH_VAULTS?.split(',') as VaultKind[] | undefined) ?? ['devvault', 'openbao'],
    only,
    profile: env.BENCH_PROFILE === '1',
    maxSeconds: num('BENCH_MAX_SECONDS', quick ? 175 : 2400),
  };
}

export const runs = (s: BenchSettings, phase: string) => s.only === null || s.only.includes(phase);
