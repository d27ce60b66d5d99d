import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  type AuditKeyring,
  type AuditKeys,
  appendAuditEvent,
  type Checkpoint,
  consistencyProof,
  listCheckpoints,
  type VerifyReport,
  verifyAuditLog,
  verifyConsistencyProof,
} from '../../../server/audit';
import { insertCheckpoint } from '../../../server/audit/checkpoints/checkpoint.store';
import { signTreeHead } from '../../../server/audit/checkpoints/checkpoint-signature';
import { hashLeaf, MerkleFrontier } from '../../../server/audit/merkle';
import { SequencedTree } from '../../../server/audit/sequencer/sequenced-tree';
import { runSequencerPass } from '../../../server/audit/sequencer/sequencer-pass';
import { readLeafTexts } from '../../../server/audit/verify/leaf-pages';
import type { DbOrTx, Tx } from '../../../server/db/database';
import { ringOf, testAuditKeys, testSequencer } from '../../helpers/audit';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const EVENTS = 20;
const TABLES = ['audit_events', 'audit_leaves', 'audit_tree_nodes', 'audit_checkpoints', 'audit_head'];

class Rollback extends Error {}

/**
 * DESIGN "Rules": the log is append-only and verifiable as a transparency log. A superuser can switch
 * the append-only triggers off; every kind of change is then found by `verify`, at the first bad leaf.
 * Each tampering runs in a transaction that is rolled back, so every test starts from the intact log.
 */
describe('audit log tamper evidence', () => {
  let t: TestDatabase;
  let keys: AuditKeys;
  let ring: AuditKeyring;
  let signed: Checkpoint[];

  beforeAll(async () => {
    t = await createTestDatabase();
    keys = await testAuditKeys();
    ring = await ringOf(keys);
    const s = testSequencer(t.url, keys);
    const taskId = randomUUID();
    try {
      // One event per transaction, a checkpoint every 5 leaves: 5, 10, 15, 20.
      for (let i = 0; i < EVENTS; i += 1) {
        await t.db
          .transaction()
          .execute((tx) => appendAuditEvent(tx, { type: 'probe', taskId, payload: { i, amount: 10 } }));
        if ((i + 1) % 5 === 0) await s.runOnce({ forceCheckpoint: true });
      }
    } finally {
      await s.stop();
    }
    signed = await listCheckpoints(t.db, 0);
    expect(signed.map((c) => c.tree_size)).toEqual([5, 10, 15, 20]);
  });
  afterAll(async () => {
    await t.drop();
  });

  /** Switches the triggers off (a superuser's power), tampers, verifies, and rolls everything back. */
  async function tampered(
    change: (tx: Tx) => Promise<unknown>,
    trusted: Checkpoint[] = [],
  ): Promise<VerifyReport> {
    let report: VerifyReport | undefined;
    await t.db
      .transaction()
      .execute(async (tx) => {
        for (const table of TABLES)
          await sql`alter table ${sql.table(table)} disable trigger user`.execute(tx);
        await change(tx);
        report = await verifyAuditLog(tx, ring, { trusted, pageSize: 4 });
        throw new Rollback();
      })
      .catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
    return report!;
  }

  const seqOfLeaf = async (db: DbOrTx, index: number) =>
    Number(
      (await sql<{ seq: string }>`select seq from audit_leaves where leaf_index = ${index}`.execute(db))
        .rows[0]!.seq,
    );

  afterEach(async () => {
    expect(await verifyAuditLog(t.db, ring)).toMatchObject({
      ok: true,
      checked: EVENTS,
      checkpointsChecked: 4,
    });
  });

  const COLUMN: Record<string, string> = {
    audit_events: 'type',
    audit_leaves: 'hash',
    audit_tree_nodes: 'hash',
    audit_checkpoints: 'signature',
    audit_head: 'hash',
  };
  test.each(
    TABLES.flatMap((table) => [
      [table, 'UPDATE', `update ${table} set ${COLUMN[table]} = ${COLUMN[table]}`],
      [table, 'DELETE', `delete from ${table}`],
      [table, 'TRUNCATE', `truncate ${table}`],
    ]),
  )('when anyone tries on %s an %s, then the trigger refuses it', async (table, op, statement) => {
    await expect(sql.raw(statement).execute(t.db)).rejects.toMatchObject({
      code: '42501',
      message: `${table} is append-only: ${op} refused`,
    });
  });

  test('when an event is edited, then verify names its leaf with leaf_hash_mismatch', async () => {
    const r = await tampered(async (tx) =>
      sql`update audit_events set body = replace(body, '"amount":10', '"amount":1000'),
            payload = jsonb_set(payload, '{amount}', '1000') where seq = ${await seqOfLeaf(tx, 7)}`.execute(
        tx,
      ),
    );
    expect(r).toMatchObject({
      ok: false,
      checked: 7,
      brokenAt: { leafIndex: 7, reason: 'leaf_hash_mismatch' },
    });
  });

  test('when an event is deleted, then verify names its leaf with event_missing', async () => {
    const r = await tampered(async (tx) =>
      sql`delete from audit_events where seq = ${await seqOfLeaf(tx, 12)}`.execute(tx),
    );
    expect(r.brokenAt).toMatchObject({ leafIndex: 12, reason: 'event_missing' });
  });

  test('when a leaf is deleted, then verify names it with leaf_missing', async () => {
    const r = await tampered((tx) => sql`delete from audit_leaves where leaf_index = 12`.execute(tx));
    expect(r.brokenAt).toMatchObject({ leafIndex: 12, reason: 'leaf_missing' });
  });

  test('when two events swap places, then verify names the first of them', async () => {
    const r = await tampered(async (tx) => {
      const [a, b] = [await seqOfLeaf(tx, 3), await seqOfLeaf(tx, 4)];
      await sql`update audit_leaves set seq = -seq where leaf_index in (3, 4)`.execute(tx);
      await sql`update audit_leaves set seq = ${b} where leaf_index = 3`.execute(tx);
      await sql`update audit_leaves set seq = ${a} where leaf_index = 4`.execute(tx);
    });
    expect(r.brokenAt).toMatchObject({ leafIndex: 3, reason: 'leaf_hash_mismatch' });
  });

  test('when a forged event is inserted into the middle of the log, then verify names its leaf', async () => {
    const r = await tampered(async (tx) => {
      const forged = await sql<{ seq: string }>`
        insert into audit_events (at, type, payload, body) values (now(), 'forged', '{}',
          '{"at":"2026-11-24T00:00:00.000Z","grant_id":null,"payload":{},"principal":null,"task_id":null,"type":"forged"}')
        returning seq`.execute(tx);
      // Every event from leaf 8 on moves one place later; the forged one takes leaf 8.
      const seqs = await sql<{ leaf_index: string; seq: string }>`
        select leaf_index, seq from audit_leaves where leaf_index >= 8 order by leaf_index`.execute(tx);
      await sql`update audit_leaves set seq = -seq where leaf_index >= 8`.execute(tx);
      await sql`update audit_leaves set seq = ${forged.rows[0]!.seq} where leaf_index = 8`.execute(tx);
      for (const row of seqs.rows.slice(0, -1)) {
        await sql`update audit_leaves set seq = ${row.seq} where leaf_index = ${Number(row.leaf_index) + 1}`.execute(
          tx,
        );
      }
    });
    expect(r.brokenAt).toMatchObject({ leafIndex: 8, reason: 'leaf_hash_mismatch' });
  });

  test('when the log is truncated after leaf 12, then verify names leaf 13 as missing under checkpoint 15', async () => {
    const r = await tampered(async (tx) => {
      await sql`delete from audit_leaves where leaf_index >= 13`.execute(tx);
      await sql`delete from audit_tree_nodes where (node_index + 1) * (2 ^ level)::bigint > 13`.execute(tx);
    });
    expect(r).toMatchObject({ ok: false, checked: 13, brokenAt: { leafIndex: 13, reason: 'leaf_missing' } });
  });

  test('when the leaves and checkpoints are both truncated, then the events left over are named', async () => {
    const r = await tampered(async (tx) => {
      await sql`truncate audit_leaves, audit_tree_nodes, audit_checkpoints`.execute(tx);
    });
    expect(r.brokenAt).toMatchObject({ leafIndex: null, reason: 'event_not_in_log', seq: 1 });
  });

  test('when everything is truncated, then only a checkpoint the auditor kept reveals it, at leaf 0', async () => {
    const r = await tampered(
      (tx) => sql`truncate audit_events, audit_leaves, audit_tree_nodes, audit_checkpoints`.execute(tx),
      [signed[1]!],
    );
    expect(r.brokenAt).toMatchObject({ leafIndex: 0, reason: 'leaf_missing' });
  });

  test('when the log is rewritten after a checkpoint with every tree hash rebuilt, then the signed checkpoints expose it at that checkpoint', async () => {
    const r = await tampered(async (tx) => {
      await sql`update audit_events set body = replace(body, '"amount":10', '"amount":1') where seq = ${await seqOfLeaf(tx, 12)}`.execute(
        tx,
      );
      await rebuildTreeHashes(tx);
    });
    expect(r).toMatchObject({
      ok: false,
      checked: 10,
      brokenAt: { leafIndex: 10, reason: 'checkpoint_mismatch', treeSize: 15 },
    });
  });

  test('when the log is forked after checkpoint 10 and the sequencer re-signs the fork, then a checkpoint the auditor kept reveals it at leaf 10, and no consistency proof links the two', async () => {
    const kept = signed.find((c) => c.tree_size === 15)!;
    let local: VerifyReport | undefined;
    let proofHolds: boolean | undefined;
    const r = await tampered(
      async (tx) => {
        // A superuser drops everything after checkpoint 10, deletes one event, and lets the log run again.
        await sql`delete from audit_events where seq = ${await seqOfLeaf(tx, 12)}`.execute(tx);
        await sql`delete from audit_leaves where leaf_index >= 10`.execute(tx);
        await sql`delete from audit_tree_nodes where (node_index + 1) * (2 ^ level)::bigint > 10`.execute(tx);
        await sql`delete from audit_checkpoints where tree_size > 10`.execute(tx);
        await sql`update audit_sequencer set snapshot = '1:1:'`.execute(tx);
        await resequenceInside(tx);
        local = await verifyAuditLog(tx, ring);
        const fork = await consistencyProof(tx, 15);
        const latest = (await listCheckpoints(tx, 0)).at(-1)!;
        proofHolds = verifyConsistencyProof(kept, latest, fork.consistency_path);
      },
      [kept],
    );
    expect(local).toMatchObject({ ok: true, treeSize: EVENTS - 1 });
    expect(proofHolds).toBe(false);
    expect(r.brokenAt).toMatchObject({ leafIndex: 10, reason: 'checkpoint_mismatch', treeSize: 15 });
    expect(r.brokenAt?.detail).toContain('trusted checkpoint 15');
  });

  /** What the honest sequencer would do on a tampered database, run inside the test's transaction. */
  async function resequenceInside(tx: Tx): Promise<void> {
    const tree = await SequencedTree.load(tx);
    await runSequencerPass(tx, tree, 100);
    const cp = await signTreeHead(keys.current, {
      treeSize: tree.size,
      rootHash: tree.root(),
      timestamp: Date.now(),
    });
    await insertCheckpoint(tx, cp, keys.current.kid);
  }

  /** Recomputes every stored leaf and node hash from the (tampered) events, as a careful forger would. */
  async function rebuildTreeHashes(tx: Tx): Promise<void> {
    const f = MerkleFrontier.empty();
    for (const leaf of await readLeafTexts(tx, 0, EVENTS)) {
      const hash = hashLeaf(leaf.text!);
      await sql`update audit_leaves set hash = ${hash} where leaf_index = ${leaf.index}`.execute(tx);
      for (const n of f.append(hash)) {
        await sql`update audit_tree_nodes set hash = ${n.hash} where level = ${n.level} and node_index = ${n.index}`.execute(
          tx,
        );
      }
    }
  }
});
