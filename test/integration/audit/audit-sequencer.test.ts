import { sql } from 'kysely';
import {
  type AuditKeys,
  appendAuditEvent,
  appendAuditEvents,
  consistencyProof,
  inclusionProof,
  listAuditEvents,
  listCheckpoints,
  verifyAuditLog,
  verifyConsistencyProof,
  verifyInclusionProof,
} from '../../../server/audit';
import { openSequencerSession } from '../../../server/audit/sequencer/sequencer-session';
import type { Db } from '../../../server/db/database';
import { createDb } from '../../../server/db/pool';
import { ringOf, testAuditKeys, testSequencer } from '../../helpers/audit';
import { eventually } from '../../helpers/broker';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const probe = (n: number | string) => ({ type: 'probe', payload: { n } });

async function leafOf(db: Db, n: number | string): Promise<number | undefined> {
  const r = await sql<{ leaf_index: string }>`
    select l.leaf_index from audit_events e join audit_leaves l on l.seq = e.seq
    where e.type = 'probe' and e.payload->>'n' = ${String(n)}`.execute(db);
  return r.rows[0] ? Number(r.rows[0].leaf_index) : undefined;
}

async function leafIndexes(db: Db): Promise<number[]> {
  const r = await sql<{
    leaf_index: string;
  }>`select leaf_index from audit_leaves order by leaf_index`.execute(db);
  return r.rows.map((x) => Number(x.leaf_index));
}

describe('the audit sequencer', () => {
  let t: TestDatabase;
  let keys: AuditKeys;
  beforeAll(async () => {
    t = await createTestDatabase();
    keys = await testAuditKeys();
  });
  afterAll(async () => {
    await t.drop();
  });

  test('when events are committed, then one pass gives them dense leaves in order and signs a checkpoint that verifies', async () => {
    const s = testSequencer(t.url, keys);
    try {
      expect(await s.runOnce()).toBeUndefined();
      expect(s.isLeader()).toBe(true);
      await t.db
        .transaction()
        .execute((tx) => appendAuditEvents(tx, [probe('a1'), probe('a2'), probe('a3')]));
      await t.db.transaction().execute((tx) => appendAuditEvent(tx, probe('a4')));
      const cp = await s.runOnce({ forceCheckpoint: true });
      expect(cp).toMatchObject({
        tree_size: 4,
        root_hash: expect.any(String),
        signature: expect.any(String),
      });
      expect(await leafIndexes(t.db)).toEqual([0, 1, 2, 3]);
      expect([await leafOf(t.db, 'a1'), await leafOf(t.db, 'a2'), await leafOf(t.db, 'a3')]).toEqual([
        0, 1, 2,
      ]);
      const events = await listAuditEvents(t.db, { limit: 10 });
      expect(events.map((e) => [e.leaf_index, e.payload.n])).toEqual([
        [0, 'a1'],
        [1, 'a2'],
        [2, 'a3'],
        [3, 'a4'],
      ]);
      expect(await verifyAuditLog(t.db, await ringOf(keys))).toMatchObject({
        ok: true,
        checked: 4,
        checkpointsChecked: 1,
      });
    } finally {
      await s.stop();
    }
  });

  test('when two transactions commit in the opposite order of their inserts, then leaves follow commit order and neither waits for the other', async () => {
    const s = testSequencer(t.url, keys);
    const first = createDb(t.url, { max: 1 });
    const second = createDb(t.url, { max: 1 });
    try {
      const start = (await leafIndexes(t.db)).length;
      // T1 inserts first and stays open; T2 inserts after it and commits first.
      let releaseT1!: () => void;
      const t1Open = new Promise<void>((resolve) => {
        releaseT1 = resolve;
      });
      let t1Inserted!: () => void;
      const t1HasInserted = new Promise<void>((resolve) => {
        t1Inserted = resolve;
      });
      const t1 = first.db.transaction().execute(async (tx) => {
        await appendAuditEvent(tx, probe('t1'));
        t1Inserted();
        await t1Open;
      });
      await t1HasInserted;
      await second.db.transaction().execute((tx) => appendAuditEvent(tx, probe('t2')));
      const seqs = await sql<{ n: string; seq: string }>`
        select payload->>'n' as n, seq from audit_events where payload->>'n' in ('t2')`.execute(t.db);
      expect(seqs.rows).toHaveLength(1);

      // The pass does not wait for T1: T2's event is a leaf at once.
      await s.runOnce();
      expect(await leafOf(t.db, 't2')).toBe(start);
      expect(await leafOf(t.db, 't1')).toBeUndefined();

      // A rolled-back transaction and a transaction still open never stop later commits.
      await expect(
        t.db.transaction().execute(async (tx) => {
          await appendAuditEvent(tx, probe('aborted'));
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await t.db.transaction().execute((tx) => appendAuditEvent(tx, probe('t3')));
      await s.runOnce();
      expect(await leafOf(t.db, 't3')).toBe(start + 1);

      // T1 commits last and becomes the next leaf: never skipped, never placed before what is already logged.
      releaseT1();
      await t1;
      await s.runOnce({ forceCheckpoint: true });
      expect(await leafOf(t.db, 't1')).toBe(start + 2);
      expect(await leafOf(t.db, 'aborted')).toBeUndefined();
      const t1Seq = await sql<{
        seq: string;
      }>`select seq from audit_events where payload->>'n' = 't1'`.execute(t.db);
      const t2Seq = await sql<{
        seq: string;
      }>`select seq from audit_events where payload->>'n' = 't2'`.execute(t.db);
      expect(Number(t1Seq.rows[0]!.seq)).toBeLessThan(Number(t2Seq.rows[0]!.seq));
      expect(await leafIndexes(t.db)).toEqual(Array.from({ length: start + 3 }, (_, i) => i));
      expect((await verifyAuditLog(t.db, await ringOf(keys))).ok).toBe(true);
    } finally {
      await first.close();
      await second.close();
      await s.stop();
    }
  });

  test('when more events are waiting than one batch holds, then every one is sequenced once, densely', async () => {
    const s = testSequencer(t.url, keys, { batchSize: 7 });
    try {
      const start = (await leafIndexes(t.db)).length;
      await t.db.transaction().execute((tx) =>
        appendAuditEvents(
          tx,
          Array.from({ length: 40 }, (_, i) => probe(`b${i}`)),
        ),
      );
      await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          t.db.transaction().execute((tx) => appendAuditEvent(tx, probe(`w${w}`))),
        ),
      );
      await s.runOnce({ forceCheckpoint: true });
      expect(await leafIndexes(t.db)).toEqual(Array.from({ length: start + 48 }, (_, i) => i));
      for (let i = 1; i < 40; i += 1)
        expect(await leafOf(t.db, `b${i}`)).toBe((await leafOf(t.db, `b${i - 1}`))! + 1);
      expect(await verifyAuditLog(t.db, await ringOf(keys), { pageSize: 5 })).toMatchObject({
        ok: true,
        checked: start + 48,
      });
    } finally {
      await s.stop();
    }
  });

  test('when proofs are served from the stored tree for every leaf and every pair of checkpoints, then each verifies against its signed root', async () => {
    const db = await createTestDatabase();
    const s = testSequencer(db.url, keys);
    try {
      const sizes = [1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 37];
      for (let i = 0; i < 37; i += 1) {
        await db.db.transaction().execute((tx) => appendAuditEvent(tx, probe(`p${i}`)));
        if (sizes.includes(i + 1)) await s.runOnce({ forceCheckpoint: true });
      }
      const checkpoints = await listCheckpoints(db.db, 0);
      expect(checkpoints.map((c) => c.tree_size)).toEqual(sizes);
      const events = await listAuditEvents(db.db, { limit: 100 });
      for (const cp of checkpoints) {
        for (let m = 0; m < cp.tree_size; m += 1) {
          const proof = await inclusionProof(db.db, m, cp.tree_size);
          expect([m, cp.tree_size, verifyInclusionProof(events[m]!, proof, cp)]).toEqual([
            m,
            cp.tree_size,
            true,
          ]);
        }
        for (const older of checkpoints.filter((c) => c.tree_size <= cp.tree_size)) {
          const proof = await consistencyProof(db.db, older.tree_size, cp.tree_size);
          expect(verifyConsistencyProof(older, cp, proof.consistency_path)).toBe(true);
        }
      }
      // A proof for one event never verifies for another.
      const proof = await inclusionProof(db.db, 5, 37);
      expect(verifyInclusionProof(events[6]!, { ...proof, leaf_index: 6 }, checkpoints.at(-1)!)).toBe(false);
    } finally {
      await s.stop();
      await db.drop();
    }
  });

  test('when the lock holder hangs without running statements, then PostgreSQL ends its session and a sequencer leads within 2 s after that', async () => {
    const hung = await openSequencerSession(t.url, () => undefined);
    const s = testSequencer(t.url, keys, { intervalMs: 50, lockPollMs: 100 });
    try {
      expect(await hung.tryLock()).toBe(true);
      const hungAt = Date.now();
      s.start();
      await new Promise((r) => setTimeout(r, 500));
      expect(s.isLeader()).toBe(false);
      // idle_session_timeout (1.5 s) ends the silent session; the next poll takes the lock.
      expect(await eventually(async () => s.isLeader(), 4000, 10)).toBe(true);
      expect(Date.now() - hungAt).toBeLessThan(1500 + 2000);
      expect(hung.alive()).toBe(false);
    } finally {
      await hung.close();
      await s.stop();
    }
  });

  test('when two sequencers share a database, then one leads, and when its connection is killed or its broker stops, a new lead takes over within 2 s', async () => {
    const a = testSequencer(t.url, keys, { intervalMs: 50, lockPollMs: 100 });
    const b = testSequencer(t.url, keys, { intervalMs: 50, lockPollMs: 100 });
    const leaders = () => [a, b].filter((s) => s.isLeader());
    try {
      a.start();
      expect(await eventually(async () => a.isLeader(), 5000, 20)).toBe(true);
      b.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(leaders()).toEqual([a]);

      // The holder's connection dies: the lock goes with it, and whichever sequencer gets it first leads.
      const killed = a.sessionPid()!;
      await sql`select pg_terminate_backend(${killed})`.execute(t.db);
      const killedAt = Date.now();
      const newLead = async () => leaders().length === 1 && leaders()[0]!.sessionPid() !== killed;
      expect(await eventually(newLead, 2000, 10)).toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(2000);
      await t.db.transaction().execute((tx) => appendAuditEvent(tx, probe('after-takeover')));
      expect(
        await eventually(async () => (await leafOf(t.db, 'after-takeover')) !== undefined, 2000, 20),
      ).toBe(true);

      // The leading broker stops: the other one takes over.
      const [leader] = leaders();
      const other = leader === a ? b : a;
      await leader!.stop();
      const stoppedAt = Date.now();
      expect(await eventually(async () => other.isLeader(), 2000, 10)).toBe(true);
      expect(Date.now() - stoppedAt).toBeLessThan(2000);
      expect((await verifyAuditLog(t.db, await ringOf(keys))).ok).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
