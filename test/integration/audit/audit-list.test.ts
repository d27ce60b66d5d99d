import { randomUUID } from 'node:crypto';
import { appendAuditEvents, listAuditEvents } from '../../../server/audit';
import { InvalidRequest } from '../../../server/shared/errors';
import { testAuditKeys, testSequencer } from '../../helpers/audit';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

const A = 'spiffe://dev.grantline.local/agent/a';
const B = 'spiffe://dev.grantline.local/agent/b';

describe('listAuditEvents', () => {
  let t: TestDatabase;
  const task1 = randomUUID();
  const task2 = randomUUID();
  const grant1 = randomUUID();

  beforeAll(async () => {
    t = await createTestDatabase();
    // leaves 0..5: task1 {0,1,2,4}, task2 {3,5}; grant1 {1,4}; principal A {0,1,3}, B {2,4,5}
    await t.db.transaction().execute((tx) =>
      appendAuditEvents(tx, [
        { type: 'task.opened', taskId: task1, principal: A, payload: { n: 1 } },
        { type: 'grant.issued', taskId: task1, grantId: grant1, principal: A, payload: { n: 2 } },
        { type: 'policy.decision', taskId: task1, principal: B, payload: { n: 3 } },
        { type: 'task.opened', taskId: task2, principal: A, payload: { n: 4 } },
        { type: 'grant.revoked', taskId: task1, grantId: grant1, principal: B, payload: { n: 5 } },
        { type: 'task.closed', taskId: task2, principal: B, payload: { n: 6 } },
      ]),
    );
    const s = testSequencer(t.url, await testAuditKeys());
    await s.runOnce();
    await s.stop();
  });
  afterAll(async () => {
    await t.drop();
  });

  const leavesOf = async (q: Parameters<typeof listAuditEvents>[1]) =>
    (await listAuditEvents(t.db, q)).map((e) => e.leaf_index);

  test('when no filter is given, then events come in leaf order up to the limit', async () => {
    expect(await leavesOf({ limit: 100 })).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await leavesOf({ limit: 2 })).toEqual([0, 1]);
  });

  test('when filtering by task, grant or principal, then only matching events come back', async () => {
    expect(await leavesOf({ taskId: task1, limit: 100 })).toEqual([0, 1, 2, 4]);
    expect(await leavesOf({ taskId: task2.toUpperCase(), limit: 100 })).toEqual([3, 5]);
    expect(await leavesOf({ grantId: grant1, limit: 100 })).toEqual([1, 4]);
    expect(await leavesOf({ principal: B, limit: 100 })).toEqual([2, 4, 5]);
    expect(await leavesOf({ taskId: task1, principal: A, limit: 100 })).toEqual([0, 1]);
    expect(await leavesOf({ taskId: randomUUID(), limit: 100 })).toEqual([]);
  });

  test('when paging with afterLeaf set to the last leaf index seen, then pages neither overlap nor skip', async () => {
    const page1 = await leavesOf({ taskId: task1, limit: 2 });
    const page2 = await leavesOf({ taskId: task1, limit: 2, afterLeaf: page1.at(-1) });
    const page3 = await leavesOf({ taskId: task1, limit: 2, afterLeaf: page2.at(-1) });
    expect([page1, page2, page3]).toEqual([[0, 1], [2, 4], []]);
  });

  test('when an event is listed, then it is exactly the object its leaf commits to', async () => {
    const [e] = await listAuditEvents(t.db, { grantId: grant1, limit: 1 });
    expect(e).toEqual({
      leaf_index: 1,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      type: 'grant.issued',
      task_id: task1,
      grant_id: grant1,
      principal: A,
      payload: { n: 2 },
    });
  });

  test.each([
    ['limit 0', { limit: 0 }],
    ['limit over 1000', { limit: 1001 }],
    ['fractional limit', { limit: 1.5 }],
    ['afterLeaf below -1', { limit: 1, afterLeaf: -2 }],
    ['task not a uuid', { limit: 1, taskId: 'nope' }],
    ['grant not a uuid', { limit: 1, grantId: '1' }],
  ])('when the query has %s, then it is an invalid request', async (_n, q) => {
    await expect(listAuditEvents(t.db, q)).rejects.toThrow(InvalidRequest);
  });
});
