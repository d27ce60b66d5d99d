import fs from 'node:fs';
import path from 'node:path';
import type { BenchResults } from './bench-report';

type Figures = Record<string, Record<string, unknown>>;

interface Target {
  key: string;
  op: '>=' | '<=' | '==';
  value: number;
}

/** Issue 14's targets, checked against the headline figures of one run. */
export const TARGETS: Target[] = [
  { key: 'ratios.kv_grants_vs_vault', op: '>=', value: 0.5 },
  { key: 'ratios.kv_p50_vs_vault', op: '<=', value: 2 },
  { key: 'ratios.kv_p99_vs_vault', op: '<=', value: 3 },
  { key: 'ratios.db_grants_vs_vault', op: '>=', value: 0.8 },
  { key: 'ratios.redemptions_vs_vault', op: '>=', value: 0.5 },
  { key: 'close.returned_ms', op: '<=', value: 500 },
  { key: 'close.active_at_return', op: '==', value: 0 },
  { key: 'close.all_revoked_ms', op: '<=', value: 10_000 },
  { key: 'lineage.median_ms', op: '<=', value: 5 },
  { key: 'broker.rss_peak_mb', op: '<=', value: 200 },
];

const get = (r: Figures, key: string): number | null => {
  const [section, name] = key.split('.') as [string, string];
  const v = r[section]?.[name];
  return typeof v === 'number' ? v : null;
};

export function checkTargets(r: BenchResults) {
  return TARGETS.map((t) => {
    const actual = get(r as unknown as Figures, t.key);
    const met =
      actual === null
        ? null
        : t.op === '>='
          ? actual >= t.value
          : t.op === '<='
            ? actual <= t.value
            : actual === t.value;
    return { key: t.key, target: `${t.op} ${t.value}`, actual, met };
  });
}

const fmt = (v: unknown) =>
  v === null || v === undefined ? '–' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v);

/** The README's figures table (markdown), made from results.json. */
export function figuresTable(r: BenchResults): string {
  const f = r as unknown as Figures & { vaults: Record<string, Figures & { version: string }> };
  const rows: string[] = [
    '| what | ' +
      Object.values(f.vaults)
        .map((v) => v.version)
        .join(' | ') +
      ' |',
  ];
  rows.push(
    `|---|${Object.keys(f.vaults)
      .map(() => '---')
      .join('|')}|`,
  );
  const row = (label: string, pick: (v: Figures) => string) =>
    rows.push(`| ${label} | ${Object.values(f.vaults).map(pick).join(' | ')} |`);
  const g = (v: Figures, k: string) => fmt(get(v, k));
  row(
    'kv grants/s, 16 agents (broker) / direct Vault ops/s',
    (v) =>
      `${g(v, 'throughput.kv_grants_per_s')} / ${g(v, 'throughput.vault_direct_kv_per_s')} (×${g(v, 'ratios.kv_grants_vs_vault')})`,
  );
  row(
    'kv grant p50 / p99 ms (direct p50 / p99)',
    (v) =>
      `${g(v, 'latency.kv_grant_p50_ms')} / ${g(v, 'latency.kv_grant_p99_ms')} (${g(v, 'latency.vault_direct_p50_ms')} / ${g(v, 'latency.vault_direct_p99_ms')})`,
  );
  row(
    'db grants/s (a PostgreSQL login each) / direct',
    (v) =>
      `${g(v, 'throughput.db_grants_per_s')} / ${g(v, 'throughput.vault_direct_db_per_s')} (×${g(v, 'ratios.db_grants_vs_vault')})`,
  );
  row(
    'redemptions/s (RFC 8693) / direct',
    (v) =>
      `${g(v, 'throughput.redemptions_per_s')} / ${g(v, 'throughput.vault_direct_redemption_per_s')} (×${g(v, 'ratios.redemptions_vs_vault')})`,
  );
  row('broker RSS peak per worker, MB', (v) => g(v, 'broker.rss_peak_mb'));
  const lines = [rows.join('\n'), ''];
  const c = f.close ?? {};
  lines.push(
    `| scale (on ${fmt((f as unknown as { headline_vault: string }).headline_vault)}) | figure |`,
    '|---|---|',
    `| close of ${fmt(c.grants)} grants (${fmt(Number(c.depth) + 1)} levels of delegation) | returns in ${fmt(c.returned_ms)} ms (${fmt(c.active_at_return)} live after); every token and lease revoked by ${fmt(c.all_revoked_ms)} ms |`,
    `| lineage at depth ${fmt(f.lineage?.depth)} among ${fmt(f.lineage?.grants_in_db)} grants | median ${fmt(f.lineage?.median_ms)} ms |`,
    `| resource-server kit refuses a closed task's token (SSE feed) | p50 ${fmt(f.kit?.refusal_after_close_p50_ms)} ms, p99 ${fmt(f.kit?.refusal_after_close_p99_ms)} ms after close returns |`,
    `| audit appends, 8 writers / verification | ${fmt(f.audit?.append_8_writers_per_s)} events/s / ${fmt(f.audit?.verify_per_s)} events/s |`,
    `| JWT-SVID verification, one core | ${fmt(f.identity?.jwt_svid_verifications_per_s)}/s |`,
  );
  return lines.join('\n');
}

/** The console summary: headline figures, each target met or not, where the results went. */
export function printSummary(r: BenchResults, file: string): void {
  const checks = checkTargets(r);
  console.log(`\n${figuresTable(r)}`);
  console.log('\ntargets (issue 14), headline Vault:');
  for (const c of checks)
    console.log(
      `  ${c.met === null ? '?' : c.met ? 'ok  ' : 'MISS'} ${c.key} = ${fmt(c.actual)} (target ${c.target})`,
    );
  const figures = path.join(path.dirname(file), 'figures.md');
  fs.writeFileSync(figures, `${figuresTable(r)}\n`);
  console.log(`\nresults written to ${file}; README table in ${figures}`);
}
