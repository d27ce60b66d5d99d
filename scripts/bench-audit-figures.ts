import { benchAudit } from './bench-audit';

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The audit log's own bench (scripts/bench-audit.ts, owned by the audit log's work) folded into the
 * results: whatever figures it returns go in under snake-case keys, and the two issue 14 names are
 * always there: `append_8_writers_per_s` and `verify_per_s`. It takes the hash-chain version's options
 * (`verifyEvents`) and the transparency log's (`events`) alike, and reads either version's result names.
 */
export async function benchAuditFigures(o: { url: string; seconds: number; events: number }) {
  const options = { url: o.url, appendSeconds: o.seconds, verifyEvents: o.events, events: o.events };
  const result = (await benchAudit(options)) as unknown as Record<string, unknown>;
  const figures: Record<string, number> = {};
  for (const [k, v] of Object.entries(result)) if (typeof v === 'number') figures[snake(k)] = v;
  const pick = (...keys: string[]) => keys.map((k) => figures[k]).find((v) => v !== undefined) ?? Number.NaN;
  return {
    ...figures,
    append_8_writers_per_s: pick('append_8_writers_per_s', 'appends_per_sec_eight_writers'),
    append_1_writer_per_s: pick('append_1_writer_per_s', 'appends_per_sec_one_writer'),
    verify_per_s: pick('verify_per_s', 'verify_events_per_sec'),
  };
}
