import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  type AuditKeyring,
  appendAuditEvent,
  listAuditEvents,
  type VerifyReport,
  verifyAuditLog,
} from '../../../server/audit';
import { auditHash, GENESIS_HASH } from '../../../server/audit/audit-hash';
import { createMigrator, migrateToLatest } from '../../../server/db/migrator';
import { ringOf, testAuditKeys, testSequencer } from '../../helpers/audit';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const LEGACY = 7;

class Rollback extends Error {}

/**
 * Issue 13 §7: events written as a hash chain before the transparency log keep their chain, stay
 * verifiable link by link, and become the first leaves, in chain order, ahead of anything newer.
 */
describe('migrating a hash-chained audit log to the transparency log', () => {
  let t: TestDatabase;
  let ring: AuditKeyring;
  const taskId = randomUUID();

  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
    const result = await createMigrator(t.db).migrateTo('2026_11_24_0002_create_audit_log');
    expect(result.error).toBeUndefined();
    await writeLegacyChain(t, LEGACY, taskId);
    await migrateToLatest(t.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  test('when the sequencer first runs, then the chained events are leaves 0..n-1 in chain order and new events follow', async () => {
    const keys = await testAuditKeys();
    ring = await ringOf(keys);
    for (let i = 0; i < 3; i += 1) {
      await t.db
        .transaction()
        .execute((tx) => appendAuditEvent(tx, { type: 'probe', taskId, payload: { after: i } }));
    }
    const s = testSequencer(t.url, keys, { batchSize: 3 });
    await s.runOnce({ forceCheckpoint: true });
    await s.stop();

    const events = await listAuditEvents(t.db, { limit: 100 });
    expect(events.map((e) => e.leaf_index)).toEqual([...Array(LEGACY + 3).keys()]);
    const legacy = events.slice(0, LEGACY);
    expect(legacy.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(legacy[0]).toMatchObject({
      prev_hash: GENESIS_HASH,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    for (let i = 1; i < LEGACY; i += 1) expect(legacy[i]!.prev_hash).toBe(legacy[i - 1]!.hash);
    expect(events.slice(LEGACY).map((e) => [e.payload.after, 'seq' in e, 'hash' in e])).toEqual([
      [0, false, false],
      [1, false, false],
      [2, false, false],
    ]);
    // New events continue the old sequence of seq values.
    const seqs = await sql<{
      seq: string;
    }>`select seq from audit_events where tx is not null order by seq`.execute(t.db);
    expect(seqs.rows.map((r) => Number(r.seq))).toEqual([8, 9, 10]);
    expect(await verifyAuditLog(t.db, ring)).toMatchObject({
      ok: true,
      checked: LEGACY + 3,
      legacyEvents: LEGACY,
    });
  });

  async function tampered(change: string): Promise<VerifyReport> {
    let report: VerifyReport | undefined;
    await t.db
      .transaction()
      .execute(async (tx) => {
        for (const table of ['audit_events', 'audit_head']) {
          await sql`alter table ${sql.table(table)} disable trigger user`.execute(tx);
        }
        await sql.raw(change).execute(tx);
        report = await verifyAuditLog(tx, ring);
        throw new Rollback();
      })
      .catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
    return report!;
  }

  test('when a chained event is edited, then verify names its leaf', async () => {
    const r = await tampered(`update audit_events set payload = '{"i": 99}' where seq = 4`);
    expect(r.brokenAt).toMatchObject({ leafIndex: 3, reason: 'leaf_hash_mismatch' });
  });

  test('when the frozen chain head is rewritten, then verify reports the chain head at its last event', async () => {
    const r = await tampered(`update audit_head set hash = '${'f'.repeat(64)}'`);
    expect(r.brokenAt).toMatchObject({ leafIndex: LEGACY - 1, reason: 'chain_head_mismatch' });
  });

  test('when the chain head is moved past the last chained event, then verify names the missing one', async () => {
    const r = await tampered('update audit_head set seq = seq + 1');
    expect(r.brokenAt).toMatchObject({ leafIndex: LEGACY, reason: 'chain_sequence_gap' });
  });

  test('when migrating down with events of the transparency log in place, then it refuses and changes nothing', async () => {
    const down = await createMigrator(t.db).migrateTo('2026_11_24_0002_create_audit_log');
    expect(down.results?.find((r) => r.status === 'Error')?.migrationName).toBe(
      '2026_12_01_0100_audit_transparency_log',
    );
    expect(String(down.error)).toMatch(/contains null values|column "hash"|column "prev_hash"/);
    await migrateToLatest(t.db);
    expect((await verifyAuditLog(t.db, ring)).ok).toBe(true);
  });
});

/** Writes `n` events exactly as the hash-chain appender did: seq 1..n, each linked to the previous hash. */
async function writeLegacyChain(t: TestDatabase, n: number, taskId: string): Promise<void> {
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const record = {
      seq,
      at: new Date(Date.UTC(2026, 10, 24, 8, 0, seq)),
      type: 'grant.issued',
      taskId,
      grantId: null,
      principal: 'spiffe://dev.grantline.local/agent/a',
      payload: { i: seq, scopes: ['db:demo:read'] },
      prevHash,
    };
    const hash = auditHash(record);
    await sql`
      insert into audit_events (seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)
      values (${seq}, ${record.at.toISOString()}::timestamptz, ${record.type}, ${taskId}::uuid, null,
        ${record.principal}, ${JSON.stringify(record.payload)}::jsonb, ${prevHash}, ${hash})`.execute(t.db);
    await sql`update audit_head set seq = ${seq}, hash = ${hash} where id = 1`.execute(t.db);
    prevHash = hash;
  }
}
