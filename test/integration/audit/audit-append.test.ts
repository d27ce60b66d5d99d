import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  type AuditEventInput,
  AuditEventRejected,
  appendAuditEvent,
  appendAuditEvents,
  verifyAuditChain,
} from '../../../server/audit';
import { GENESIS_HASH } from '../../../server/audit/audit-hash';
import type { Db } from '../../../server/db/database';
import { createDb } from '../../../server/db/pool';
import { ManualClock } from '../../../server/shared/clock';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const AGENT = 'spiffe://dev.grantline.local/agent/a';

const appendOne = (db: Db, event: AuditEventInput, clock?: ManualClock) =>
  db.transaction().execute((tx) => appendAuditEvent(tx, event, clock));

async function seqs(db: Db): Promise<number[]> {
  const rows = await db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('audit log appends', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  test('when the log is empty, then verify is ok at the genesis head', async () => {
    expect(await verifyAuditChain(t.db)).toEqual({
      ok: true,
      checked: 0,
      headSeq: 0,
      headHash: GENESIS_HASH,
    });
  });

  test('when events are appended, then they chain from genesis and what is read back hashes the same', async () => {
    const clock = new ManualClock(new Date('2026-11-24T08:30:00.123Z'));
    const taskId = randomUUID().toUpperCase();
    const first = await appendOne(
      t.db,
      { type: 'task.opened', taskId, principal: AGENT, payload: { ttl: 600 } },
      clock,
    );
    clock.advance(1);
    const payload = {
      note: 'Grüße, 😀 "quoted" \\ \n',
      big: 1e21,
      tiny: 1e-7,
      neg: -0,
      list: [null, true, 1.5],
    };
    const second = await appendOne(
      t.db,
      { type: 'grant.issued', taskId, grantId: randomUUID(), payload },
      clock,
    );

    expect(first).toMatchObject({
      seq: 1,
      prevHash: GENESIS_HASH,
      taskId: taskId.toLowerCase(),
      principal: AGENT,
    });
    expect(first.at.toISOString()).toBe('2026-11-24T08:30:00.123Z');
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, principal: null });
    expect(second.payload).toEqual({ ...payload, neg: 0 });
    const head = await t.db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
    expect(head).toEqual({ seq: '2', hash: second.hash });
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, checked: 2, headSeq: 2, headHash: second.hash });
  });

  test('when an event is stored, then its timestamp is the clock reading to the millisecond', async () => {
    const clock = new ManualClock(new Date('2026-11-24T09:00:00.999Z'));
    const e = await appendOne(t.db, { type: 'probe', payload: {} }, clock);
    const row = await sql<{ iso: string; whole_ms: boolean }>`
      select to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as iso,
             at = date_trunc('milliseconds', at) as whole_ms
      from audit_events where seq = ${e.seq}`.execute(t.db);
    expect(row.rows[0]).toEqual({ iso: '2026-11-24T09:00:00.999000', whole_ms: true });
  });

  test('when a transaction that appended rolls back, then it leaves no event and no gap', async () => {
    const before = await seqs(t.db);
    await expect(
      t.db.transaction().execute(async (tx) => {
        await appendAuditEvent(tx, { type: 'grant.issued', payload: { n: 1 } });
        throw new Error('state change failed after the append');
      }),
    ).rejects.toThrow('state change failed');
    const after = await appendOne(t.db, { type: 'grant.denied', payload: { n: 2 } });
    expect(await seqs(t.db)).toEqual([...before, after.seq]);
    expect(after.seq).toBe(before.length + 1);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  test('when a batch spans several statements, then it is one contiguous run under one lock', async () => {
    const start = (await seqs(t.db)).length;
    const taskId = randomUUID();
    const events = range(1, 1200).map((i) => ({
      type: 'grant.revoked',
      taskId,
      grantId: randomUUID(),
      payload: { i },
    }));
    const stored = await t.db.transaction().execute((tx) => appendAuditEvents(tx, events));
    expect(stored.map((e) => e.seq)).toEqual(range(start + 1, start + 1200));
    expect(stored.map((e) => e.payload.i)).toEqual(range(1, 1200));
    expect(await t.db.transaction().execute((tx) => appendAuditEvents(tx, []))).toEqual([]);
    expect(await verifyAuditChain(t.db, { batchSize: 333 })).toMatchObject({
      ok: true,
      checked: start + 1200,
    });
  });

  test('when one event of a batch is refused, then nothing of the batch is written', async () => {
    const before = await seqs(t.db);
    const events = [
      { type: 'ok', payload: {} },
      { type: 'bad', payload: { password: 'x' } },
    ];
    await expect(t.db.transaction().execute((tx) => appendAuditEvents(tx, events))).rejects.toThrow(
      AuditEventRejected,
    );
    expect(await seqs(t.db)).toEqual(before);
  });

  test('when 8 writers on two separate pools append concurrently, then seq is contiguous and verify is ok', async () => {
    // Writers 0..5 append one event per transaction, writers 6 and 7 batches of three (the recursive path).
    const other = createDb(t.url, { max: 8, applicationName: 'grantline-test-second-broker' });
    try {
      const start = (await seqs(t.db)).length;
      const writer = async (w: number) => {
        const db = w % 2 === 0 ? t.db : other.db;
        const event = (i: number) => ({ type: 'probe', principal: `writer-${w}`, payload: { i } });
        for (let i = 0; i < 50; i += 1) {
          if (w < 6) await appendOne(db, event(i));
          else await db.transaction().execute((tx) => appendAuditEvents(tx, [event(i), event(i), event(i)]));
        }
      };
      await Promise.all(range(0, 7).map(writer));
      const total = start + 6 * 50 + 2 * 50 * 3;
      expect(await seqs(t.db)).toEqual(range(1, total));
      expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true, checked: total, headSeq: total });
    } finally {
      await other.close();
    }
  });

  test('when verify walks in batches, then progress reports each batch up to the head', async () => {
    const total = (await seqs(t.db)).length;
    const calls: Array<[number, number]> = [];
    const result = await verifyAuditChain(t.db, { batchSize: 500, onProgress: (c, n) => calls.push([c, n]) });
    expect(result.ok).toBe(true);
    expect(calls.length).toBe(Math.floor(total / 500) + 1);
    expect(calls.at(-1)).toEqual([total, total]);
    expect(calls.every(([c, n], i) => n === total && c === Math.min((i + 1) * 500, total))).toBe(true);
  });
});
