import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  type AuditEventInput,
  AuditEventRejected,
  type AuditKeys,
  appendAuditEvent,
  appendAuditEvents,
  canonicalJson,
  listAuditEvents,
  verifyAuditLog,
} from '../../../server/audit';
import { hashLeaf } from '../../../server/audit/merkle';
import { readCleanPage, readPage } from '../../../server/audit/verify/leaf-pages';
import type { Db } from '../../../server/db/database';
import { createDb } from '../../../server/db/pool';
import { ManualClock } from '../../../server/shared/clock';
import { ringOf, testAuditKeys, testSequencer } from '../../helpers/audit';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const AGENT = 'spiffe://dev.grantline.local/agent/a';

const appendOne = (db: Db, event: AuditEventInput, clock?: ManualClock) =>
  db.transaction().execute((tx) => appendAuditEvent(tx, event, clock));

async function seqs(db: Db): Promise<number[]> {
  const rows = await db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

async function leafCount(db: Db): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from audit_leaves`.execute(db);
  return Number(r.rows[0]!.n);
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('audit log appends', () => {
  let t: TestDatabase;
  let keys: AuditKeys;
  let sequencer: ReturnType<typeof testSequencer>;
  const sequence = () => sequencer.runOnce({ forceCheckpoint: true });

  beforeAll(async () => {
    t = await createTestDatabase();
    keys = await testAuditKeys();
    sequencer = testSequencer(t.url, keys);
  });
  afterAll(async () => {
    await sequencer.stop();
    await t.drop();
  });

  test('when the log is empty, then verify is ok with nothing checked', async () => {
    expect(await verifyAuditLog(t.db, await ringOf(keys))).toMatchObject({
      ok: true,
      checked: 0,
      treeSize: 0,
    });
  });

  test('when events are appended, then what is listed is what the leaves commit to, byte for byte', async () => {
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
    expect(first).toMatchObject({ taskId: taskId.toLowerCase(), principal: AGENT });
    expect(first.at.toISOString()).toBe('2026-11-24T08:30:00.123Z');
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.payload).toEqual({ ...payload, neg: 0 });

    await sequence();
    const listed = await listAuditEvents(t.db, { limit: 10 });
    expect(listed).toEqual([
      {
        leaf_index: 0,
        at: '2026-11-24T08:30:00.123Z',
        type: 'task.opened',
        task_id: taskId.toLowerCase(),
        grant_id: null,
        principal: AGENT,
        payload: { ttl: 600 },
      },
      expect.objectContaining({
        leaf_index: 1,
        at: '2026-11-24T08:30:00.124Z',
        payload: { ...payload, neg: 0 },
      }),
    ]);
    const stored = await sql<{ hash: Buffer }>`select hash from audit_leaves order by leaf_index`.execute(
      t.db,
    );
    expect(stored.rows.map((r) => r.hash.toString('hex'))).toEqual(
      listed.map((e) => hashLeaf(canonicalJson(e)).toString('hex')),
    );
    expect(await verifyAuditLog(t.db, await ringOf(keys))).toMatchObject({
      ok: true,
      checked: 2,
      checkpointsChecked: 1,
    });
  });

  test('when the database hashes leaves for verification, then each is the RFC 9162 hash of the event exactly as listed', async () => {
    const start = await leafCount(t.db);
    const tricky: AuditEventInput[] = [
      { type: 'probe', payload: { payload: { payload: ',"payload":' }, text: 'a,"payload":b' } },
      { type: 'probe', grantId: randomUUID(), principal: AGENT, payload: { s: 'Grüße \u2028 😀 \\ "q"' } },
      { type: 'probe', taskId: randomUUID(), payload: {} },
    ];
    await t.db.transaction().execute((tx) => appendAuditEvents(tx, tricky));
    await sequence();
    const listed = await listAuditEvents(t.db, { limit: 10, afterLeaf: start - 1 });
    const expected = listed.map((e) => hashLeaf(canonicalJson(e)));
    const clean = await readCleanPage(t.db, start, start + listed.length);
    expect(clean?.hashes.toString('hex')).toBe(Buffer.concat(expected).toString('hex'));
    const rows = await readPage(t.db, start, start + listed.length);
    expect(rows.map((r) => r.computed?.toString('hex'))).toEqual(expected.map((h) => h.toString('hex')));
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

  test('when a transaction that appended rolls back, then it leaves no event and no gap in the leaves', async () => {
    const before = await seqs(t.db);
    await expect(
      t.db.transaction().execute(async (tx) => {
        await appendAuditEvent(tx, { type: 'grant.issued', payload: { n: 1 } });
        throw new Error('state change failed after the append');
      }),
    ).rejects.toThrow('state change failed');
    const after = await appendOne(t.db, { type: 'grant.denied', payload: { n: 2 } });
    expect(await seqs(t.db)).toEqual([...before, after.seq]);
    await sequence();
    expect(await leafCount(t.db)).toBe(before.length + 1);
    expect((await verifyAuditLog(t.db, await ringOf(keys))).ok).toBe(true);
  });

  test('when a batch spans several statements, then its events keep their order and become consecutive leaves', async () => {
    const start = await leafCount(t.db);
    const taskId = randomUUID();
    const events = range(1, 12_000).map((i) => ({
      type: 'grant.revoked',
      taskId,
      grantId: randomUUID(),
      payload: { i },
    }));
    const stored = await t.db.transaction().execute((tx) => appendAuditEvents(tx, events));
    expect(stored.map((e) => e.payload.i)).toEqual(range(1, 12_000));
    expect(stored.map((e) => e.seq)).toEqual(range(stored[0]!.seq, stored[0]!.seq + 11_999));
    expect(await t.db.transaction().execute((tx) => appendAuditEvents(tx, []))).toEqual([]);
    await sequence();
    const listed = await listAuditEvents(t.db, { taskId, limit: 1000, afterLeaf: start + 99 });
    expect(listed.map((e) => e.payload.i)).toEqual(range(101, 1100));
    expect(listed.map((e) => e.leaf_index)).toEqual(range(start + 100, start + 1099));
    expect(await verifyAuditLog(t.db, await ringOf(keys), { pageSize: 333 })).toMatchObject({
      ok: true,
      checked: start + 12_000,
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

  test('when a transaction that appended stays open, then another appends and commits without waiting for it', async () => {
    const holder = createDb(t.url, { max: 1 });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let appended!: () => void;
      const hasAppended = new Promise<void>((resolve) => {
        appended = resolve;
      });
      const open = holder.db.transaction().execute(async (tx) => {
        await appendAuditEvent(tx, { type: 'probe', payload: { open: true } });
        appended();
        await held;
      });
      await hasAppended;
      // With the old chain head this second append would block until the first transaction ended.
      const startedAt = Date.now();
      await t.db.transaction().execute(async (tx) => {
        await sql`set local lock_timeout = '1s'`.execute(tx);
        await appendAuditEvents(tx, [
          { type: 'probe', payload: { meanwhile: 1 } },
          { type: 'probe', payload: { meanwhile: 2 } },
        ]);
      });
      expect(Date.now() - startedAt).toBeLessThan(1000);
      release();
      await open;
    } finally {
      await holder.close();
    }
  });

  test('when 8 writers on two separate pools append concurrently, then every event becomes exactly one leaf and verify is ok', async () => {
    // Writers 0..5 append one event per transaction, writers 6 and 7 batches of three.
    const other = createDb(t.url, { max: 8, applicationName: 'grantline-test-second-broker' });
    try {
      const start = (await seqs(t.db)).length;
      const writer = async (w: number) => {
        const db = w % 2 === 0 ? t.db : other.db;
        const event = (i: number) => ({ type: 'probe', principal: `writer-${w}`, payload: { i } });
        for (let i = 0; i < 50; i += 1) {
          if (w < 6) await appendOne(db, event(i));
          else await db.transaction().execute((tx) => appendAuditEvents(tx, [event(i), event(i), event(i)]));
          if (i % 10 === 0) await sequencer.runOnce();
        }
      };
      await Promise.all(range(0, 7).map(writer));
      await sequence();
      const total = start + 6 * 50 + 2 * 50 * 3;
      expect(await leafCount(t.db)).toBe(total);
      const dupes = await sql<{
        n: string;
      }>`select count(*) - count(distinct seq) as n from audit_leaves`.execute(t.db);
      expect(Number(dupes.rows[0]!.n)).toBe(0);
      expect(await verifyAuditLog(t.db, await ringOf(keys))).toMatchObject({ ok: true, checked: total });
    } finally {
      await other.close();
    }
  });

  test('when verify walks in pages, then progress reports each page up to the tree size', async () => {
    const total = await leafCount(t.db);
    const calls: Array<[number, number]> = [];
    const result = await verifyAuditLog(t.db, await ringOf(keys), {
      pageSize: 500,
      onProgress: (c, n) => calls.push([c, n]),
    });
    expect(result.ok).toBe(true);
    expect(calls.length).toBe(Math.ceil(total / 500));
    expect(calls.at(-1)).toEqual([total, total]);
  });
});
