import pg from 'pg';
import { benchAudit } from '../../../scripts/bench-audit';
import { startCheckpointLatencyProbe } from '../../../scripts/bench-audit-latency';
import { testAuditKeys, testSequencer } from '../../helpers/audit';
import { createTestDatabase, testServerUrl } from '../../helpers/database';

async function benchDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    const r = await client.query<{ datname: string }>(
      "select datname from pg_database where datname like 'grantline_bench_audit_%'",
    );
    return r.rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

describe('the audit bench', () => {
  test('when run briefly, then it reports positive figures over the requested events and drops its database', async () => {
    const before = await benchDatabases();
    const r = await benchAudit({ url: testServerUrl(), appendSeconds: 0.3, events: 3000, proofSamples: 20 });
    // The log holds at least the requested events (more when the append phases alone exceed them).
    expect(r.verified_events).toBeGreaterThanOrEqual(3000);
    expect(r.proof_tree_size).toBe(r.verified_events);
    const keys = [
      'append_1_writer_per_s',
      'append_8_writers_per_s',
      'sequencer_per_s',
      'verify_per_s',
      'inclusion_proof_p50_ms',
      'consistency_proof_p50_ms',
    ] as const;
    // Named in the failure: which figure came out as zero, with its value.
    const nonPositive = keys.filter((k) => !(r[k] > 0)).map((k) => `${k}=${r[k]}`);
    expect(nonPositive).toEqual([]);
    expect(r.inclusion_proof_p95_ms).toBeGreaterThanOrEqual(r.inclusion_proof_p50_ms);
    expect(r.append_8_writers_batched_per_s).toBeGreaterThan(0);
    // Appenders share no row: none of them ever waits on a row lock.
    expect(r.append_8_writers_lock_wait_samples).toBe(0);
    expect(await benchDatabases()).toEqual(before);
  });

  test('when the latency probe runs beside a sequencer, then every probe event reaches a signed checkpoint', async () => {
    const t = await createTestDatabase();
    const s = testSequencer(t.url, await testAuditKeys(), { intervalMs: 50, checkpointIntervalMs: 200 });
    try {
      s.start();
      const probe = startCheckpointLatencyProbe(t.db, { probes: 2, pauseMs: 20 });
      await new Promise((r) => setTimeout(r, 1500));
      const latency = await probe.stop();
      expect(latency.samples).toBeGreaterThan(2);
      expect(latency.unfinished).toBe(0);
      expect(latency.p95Ms).toBeGreaterThanOrEqual(latency.p50Ms);
      expect(latency.maxMs).toBeLessThan(5000);
    } finally {
      await s.stop();
      await t.drop();
    }
  });
});
