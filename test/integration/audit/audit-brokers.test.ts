import { sql } from 'kysely';
import { AUDITOR, eventually, type TestBroker } from '../../helpers/broker';
import { createDurableWorld, type DurableWorld } from '../../helpers/broker-restart';
import { openTask } from '../../helpers/scenario';

/**
 * Issue 13 §1 with real brokers: every broker runs a sequencer, one leads; when the leading broker
 * stops (or its connection dies) another takes over within 2 s, and nothing committed is lost.
 */
describe('the audit sequencer across brokers', () => {
  let world: DurableWorld;
  let one: TestBroker;
  let two: TestBroker;

  beforeAll(async () => {
    world = await createDurableWorld();
    one = await world.startBroker();
    two = await world.startBroker();
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await world?.close();
  });

  const leaders = () => [one, two].filter((b) => b.broker.auditSequencer.isLeader());

  test('when two brokers share the database, then exactly one leads the sequencer', async () => {
    expect(await eventually(async () => leaders().length === 1, 5000, 20)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(leaders()).toHaveLength(1);
    const lock = await sql<{ n: number }>`
      select count(*)::int as n from pg_locks
      where locktype = 'advisory' and granted and classid = ${0x61756474} and objid = 9162 and objsubid = 2`.execute(
      world.db.db,
    );
    expect(lock.rows[0]!.n).toBe(1);
  });

  test('when the leading broker stops, then the other leads within 2 s and signs what both wrote', async () => {
    const [leader] = leaders();
    const survivor = leader === one ? two : one;
    const before = await openTask(leader!);
    await leader!.stop();
    const stoppedAt = Date.now();
    expect(await eventually(async () => survivor.broker.auditSequencer.isLeader(), 2000, 10)).toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(2000);

    const after = await openTask(survivor);
    const cp = await survivor.call('POST', '/v1/audit/checkpoints', { as: AUDITOR });
    expect(cp.status).toBe(201);
    for (const taskId of [before, after]) {
      const listed = await survivor.call('GET', `/v1/audit/events?task=${taskId}`, { as: AUDITOR });
      const opened = listed.body.events.find((e: { type: string }) => e.type === 'task.opened');
      expect(opened.leaf_index).toBeLessThan(cp.body.tree_size);
    }
    const verified = await survivor.call('GET', '/v1/audit/verify', { as: AUDITOR });
    expect(verified.body).toMatchObject({ ok: true });
  });
});
