import fs from 'node:fs';
import path from 'node:path';
import type { BenchAuditResult } from './bench-audit';
import type { CloseResult } from './bench-close';
import type { DelegationResult } from './bench-delegation';
import type { BrokerGrantsResult, DirectVaultResult } from './bench-grants';
import type { LineageResult } from './bench-lineage';
import { type LoadResult, round } from './bench-load';
import type { BenchVaultResult } from './bench-vault';

export interface ScopeComparison {
  broker: BrokerGrantsResult;
  direct: DirectVaultResult;
  /** broker grants/s ÷ direct Vault grant-equivalents/s, and broker p50 ÷ direct p50. */
  throughputRatio: number;
  p50Ratio: number;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string; platform: string };
  settings: Record<string, number>;
  grants: Partial<Record<'kv:demo/api-key' | 'db:demo:read', ScopeComparison>>;
  close?: CloseResult;
  delegation?: DelegationResult;
  lineage?: LineageResult;
  vault?: BenchVaultResult;
  identity?: { verificationsPerSec: number };
  audit?: BenchAuditResult;
  phaseSeconds: Record<string, number>;
  brokerWarnings: number;
  totalSeconds?: number;
  error?: string;
}

export function compare(broker: BrokerGrantsResult, direct: DirectVaultResult): ScopeComparison {
  return {
    broker,
    direct,
    throughputRatio: direct.perSec ? round(broker.perSec / direct.perSec, 3) : 0,
    p50Ratio: direct.p50Ms ? round(broker.p50Ms / direct.p50Ms, 2) : 0,
  };
}

type Row = [string, string, string];

const pct = (v: number) => `${Math.round(v * 100)}%`;
const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'timed out' : `${v} ms`);
const load = (r: LoadResult, unit: string) =>
  `${r.perSec} ${unit}/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (n=${r.ops}${r.errors ? `, errors=${r.errors}` : ''})`;

function topWait(r: BrokerGrantsResult): string {
  const t = r.diagnostics.topLockWait;
  return t ? `${pct(t.share)} of waits: ${t.statement}` : 'none';
}

function grantRows(scope: string, c: ScopeComparison): Row[] {
  return [
    [`grants ${scope}`, 'broker HTTP, 16 agents', load(c.broker, 'grants')],
    ['', 'direct Vault (child token + read)', load(c.direct, 'ops')],
    ['', 'ratio broker/direct', `throughput ×${c.throughputRatio}  p50 ×${c.p50Ratio}`],
    [
      '',
      'where the time goes (broker run)',
      `event loop ${pct(c.broker.eventLoopUtilization)} busy (direct run ${pct(c.direct.eventLoopUtilization)}), ` +
        `${c.broker.diagnostics.auditEventsPerGrant} audit events/grant, PG sessions active ${c.broker.diagnostics.avgSessionsActive}, ` +
        `waiting on a lock ${c.broker.diagnostics.avgSessionsWaitingOnLock}, idle in transaction ${c.broker.diagnostics.avgSessionsIdleInTransaction}`,
    ],
    ['', 'most frequent lock wait', topWait(c.broker)],
    [
      '',
      'close after phase',
      `${c.broker.cleanup.grants} grants: returned ${ms(c.broker.cleanup.closeReturnMs)}, all revoked ${ms(c.broker.cleanup.allRevokedMs)}`,
    ],
  ];
}

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  for (const [scope, c] of Object.entries(r.grants)) if (c) out.push(...grantRows(scope, c));
  if (r.close) {
    const c = r.close;
    out.push(
      [`close, ${c.grants} kv grants`, 'issue rate while filling', `${c.issuePerSec} grants/s`],
      ['', 'close returned', ms(c.closeReturnMs)],
      [
        '',
        'all inactive (introspect sample + DB)',
        `${ms(c.inactiveVerifiedMs)}  (${c.introspectedInactive} inactive, ${c.activeGrantsAfterClose} active in DB)`,
      ],
      [
        '',
        'every token/lease revoked',
        `${ms(c.allRevokedMs)}  (receipt complete: ${c.receiptComplete}, ${c.leases} leases)`,
      ],
    );
  }
  if (r.delegation) {
    const d = r.delegation;
    out.push(
      ['delegation', `offers (${d.offers}, from one grant)`, `${d.offersPerSec} offers/s`],
      ['', 'redemptions (token exchange), 16 sub-agents', load(d.redemptions, 'redemptions')],
      [
        `subtree revoke, ${d.subtreeSize} grants`,
        'revoke call returned',
        `${ms(d.revokeReturnMs)}  (${d.revokedCount} revoked, ${d.introspectedInactive} inactive)`,
      ],
      ['', 'every token revoked / job done', `${ms(d.subtreeRevokedMs)} / ${ms(d.jobDoneMs)}`],
    );
  }
  if (r.lineage) {
    const l = r.lineage;
    out.push([
      `lineage, depth ${l.depth}`,
      `${l.grantsInDb} grants in DB, ${l.calls} calls`,
      `median ${l.medianMs} ms  p90 ${l.p90Ms} ms  min ${l.minMs}  max ${l.maxMs}  (path ${l.pathLength})`,
    ]);
  }
  if (r.vault) {
    const v = r.vault;
    out.push(
      [
        'vault adapter',
        'orphan + child tokens',
        `${v.tokensPerSec} tokens/s  p50 ${v.tokenP50Ms} ms  p99 ${v.tokenP99Ms} ms`,
      ],
      [
        '',
        'dynamic PG credentials',
        `${v.credsPerSec} creds/s  p50 ${v.credsP50Ms} ms  p99 ${v.credsP99Ms} ms`,
      ],
    );
  }
  if (r.identity)
    out.push(['identity', 'JWT-SVID verify, one core', `${r.identity.verificationsPerSec} verifications/s`]);
  if (r.audit) {
    const a = r.audit;
    out.push(
      [
        'audit',
        'append, 1 writer / 8 writers',
        `${a.append_1_writer_per_s} / ${a.append_8_writers_per_s} events/s (each its own transaction; lock waits seen in ${a.append_8_writers_lock_wait_samples} samples)`,
      ],
      ['', 'append, 8 writers, 100 per transaction', `${a.append_8_writers_batched_per_s} events/s`],
      [
        '',
        'commit → signed checkpoint',
        a.checkpoint_latency_p95_ms === undefined
          ? 'not measured'
          : `p50 ${a.checkpoint_latency_p50_ms} ms  p95 ${a.checkpoint_latency_p95_ms} ms  (n=${a.checkpoint_latency_samples}, under the grants load)`,
      ],
      [
        '',
        `verify (${a.verified_events} events)`,
        `${a.verify_per_s} events/s, ${a.checkpoints_verified} checkpoints`,
      ],
      [
        '',
        `proofs among ${a.proof_tree_size} events`,
        `inclusion p50 ${a.inclusion_proof_p50_ms} ms  p95 ${a.inclusion_proof_p95_ms} ms; consistency p50 ${a.consistency_proof_p50_ms} ms`,
      ],
      ['', 'sequencer catch-up', `${a.sequencer_per_s} leaves/s`],
    );
  }
  return out;
}

/** The summary table: section, measure, figures. */
export function formatSummary(r: BenchResults): string {
  const table = rows(r);
  const w0 = Math.max(...table.map((x) => x[0].length), 7);
  const w1 = Math.max(...table.map((x) => x[1].length), 7);
  const line = (x: Row) => `${x[0].padEnd(w0)}  ${x[1].padEnd(w1)}  ${x[2]}`;
  const rule = '-'.repeat(w0 + w1 + 60);
  const header = `Grantline bench (${r.machine.cpus} CPUs, node ${r.machine.node}), ${r.startedAt}, ${r.totalSeconds ?? '?'} s total`;
  const phases = Object.entries(r.phaseSeconds)
    .map(([k, v]) => `${k} ${v}s`)
    .join(', ');
  return [
    rule,
    header,
    rule,
    line(['section', 'measure', 'figures']),
    rule,
    ...table.map(line),
    rule,
    `phase times: ${phases}`,
    `broker warnings logged: ${r.brokerWarnings}`,
  ].join('\n');
}

export function writeResults(r: BenchResults, dir = '.bench'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'results.json');
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
