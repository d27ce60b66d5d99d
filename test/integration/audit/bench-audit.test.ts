import pg from 'pg';
import { benchAudit } from '../../../scripts/bench-audit';
import { testServerUrl } from '../../helpers/database';

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

describe('benchAudit', () => {
  test('when run briefly, then it reports positive figures over the requested events and drops its database', async () => {
    const before = await benchDatabases();
    const r = await benchAudit({ url: testServerUrl(), appendSeconds: 0.3, verifyEvents: 3000 });
    expect(r.verifiedEvents).toBe(3000);
    expect(r.appendsPerSecOneWriter).toBeGreaterThan(0);
    expect(r.appendsPerSecEightWriters).toBeGreaterThan(0);
    expect(r.verifyEventsPerSec).toBeGreaterThan(0);
    expect(await benchDatabases()).toEqual(before);
  });
});
