import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAuditEvents, verifyAuditChain } from '../../../server/audit';
import { toAuditEvent } from '../../../server/audit/audit.repository';
import { auditHash } from '../../../server/audit/audit-hash';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const EVENTS = 20;

describe('audit log tamper evidence', () => {
  let t: TestDatabase;
  let headHash: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const taskId = randomUUID();
    const events = Array.from({ length: EVENTS }, (_, i) => ({
      type: 'probe',
      taskId,
      payload: { i, amount: 10 },
    }));
    const stored = await t.db.transaction().execute((tx) => appendAuditEvents(tx, events));
    headHash = stored.at(-1)!.hash;
  });
  afterAll(async () => {
    await t.drop();
  });

  /** What a superuser can do: switch the append-only triggers off around a change, then back on. */
  async function asSuperuser(change: string): Promise<void> {
    await t.db.transaction().execute(async (tx) => {
      await sql`alter table audit_events disable trigger user`.execute(tx);
      await sql.raw(change).execute(tx);
      await sql`alter table audit_events enable trigger user`.execute(tx);
    });
  }

  async function rowJson(seq: number): Promise<string> {
    const r = await sql<{
      j: string;
    }>`select row_to_json(e)::text as j from audit_events e where seq = ${seq}`.execute(t.db);
    return r.rows[0]!.j;
  }

  /** Puts a row back exactly as it was, so each test starts from an intact chain. */
  const restore = (seq: number, json: string) =>
    asSuperuser(
      `delete from audit_events where seq = ${seq};
       insert into audit_events select * from json_populate_record(null::audit_events, '${json.replace(/'/g, "''")}')`,
    );

  afterEach(async () => {
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, checked: EVENTS, headSeq: EVENTS, headHash });
  });

  test.each([
    ['UPDATE', 'update audit_events set payload = \'{"i": 99}\' where seq = 3'],
    ['DELETE', 'delete from audit_events where seq = 3'],
    ['TRUNCATE', 'truncate audit_events'],
  ])('when anyone tries %s on the log, then the trigger refuses it', async (op, statement) => {
    await expect(sql.raw(statement).execute(t.db)).rejects.toMatchObject({
      code: '42501',
      message: `audit_events is append-only: ${op} refused`,
    });
  });

  test('when a payload is changed behind the triggers, then verify names that seq with hash_mismatch', async () => {
    const original = await rowJson(7);
    await asSuperuser(
      `update audit_events set payload = jsonb_set(payload, '{amount}', '1000') where seq = 7`,
    );
    expect(await verifyAuditChain(t.db, { batchSize: 4 })).toEqual({
      ok: false,
      checked: 6,
      headSeq: EVENTS,
      headHash,
      brokenAt: { seq: 7, reason: 'hash_mismatch' },
    });
    await restore(7, original);
  });

  test('when a payload is changed and its hash recomputed, then the next link breaks with prev_hash_mismatch', async () => {
    const original = await rowJson(7);
    const row = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '=', '7')
      .executeTakeFirstOrThrow();
    const forged = toAuditEvent(row);
    forged.payload = { ...forged.payload, amount: 1000 };
    const hash = auditHash(forged);
    await asSuperuser(
      `update audit_events set payload = '${JSON.stringify(forged.payload)}', hash = '${hash}' where seq = 7`,
    );
    expect((await verifyAuditChain(t.db)).brokenAt).toEqual({ seq: 8, reason: 'prev_hash_mismatch' });
    await restore(7, original);
  });

  test('when a middle row is deleted behind the triggers, then verify reports a sequence_gap at its seq', async () => {
    const original = await rowJson(12);
    await asSuperuser('delete from audit_events where seq = 12');
    expect(await verifyAuditChain(t.db, { batchSize: 5 })).toMatchObject({
      ok: false,
      checked: 11,
      brokenAt: { seq: 12, reason: 'sequence_gap' },
    });
    await restore(12, original);
  });

  test('when the last rows are deleted, then verify reports the first one the head still vouches for', async () => {
    const originals = [await rowJson(19), await rowJson(20)];
    await asSuperuser('delete from audit_events where seq >= 19');
    expect((await verifyAuditChain(t.db)).brokenAt).toEqual({ seq: 19, reason: 'sequence_gap' });
    await restore(19, originals[0]!);
    await restore(20, originals[1]!);
  });

  test('when the head hash is rewritten, then verify reports head_mismatch at the head', async () => {
    await t.db
      .updateTable('audit_head')
      .set({ hash: 'f'.repeat(64) })
      .where('id', '=', 1)
      .execute();
    expect((await verifyAuditChain(t.db)).brokenAt).toEqual({ seq: EVENTS, reason: 'head_mismatch' });
    await t.db.updateTable('audit_head').set({ hash: headHash }).where('id', '=', 1).execute();
  });

  test('when a row is inserted past the head around the appender, then verify reports head_mismatch', async () => {
    await sql`
      insert into audit_events (seq, at, type, payload, prev_hash, hash)
      values (${EVENTS + 1}, now(), 'forged', '{}', ${headHash}, ${'e'.repeat(64)})`.execute(t.db);
    expect((await verifyAuditChain(t.db)).brokenAt).toEqual({ seq: EVENTS + 1, reason: 'head_mismatch' });
    await asSuperuser(`delete from audit_events where seq = ${EVENTS + 1}`);
  });

  test('when a payload is set to a number JavaScript cannot hold, then verify reports hash_mismatch, not a crash', async () => {
    const original = await rowJson(2);
    await asSuperuser(`update audit_events set payload = '{"i": 1e400}' where seq = 2`);
    expect((await verifyAuditChain(t.db)).brokenAt).toEqual({ seq: 2, reason: 'hash_mismatch' });
    await restore(2, original);
  });
});
