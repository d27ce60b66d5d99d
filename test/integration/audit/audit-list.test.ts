import { randomUUID } from 'node:crypto';
import { appendAuditEvents, listAuditEvents } from '../../../server/audit';
import { InvalidRequest } from '../../../server/shared/errors';
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
    // seq 1..6: task1 {1,2,3,5}, task2 {4,6}; grant1 {2,5}; principal A {1,2,4}, B {3,5,6}
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
  });
  afterAll(async () => {
    await t.drop();
  });

  const seqsOf = async (q: Parameters<typeof listAuditEvents>[1]) =>
    (await listAuditEvents(t.db, q)).map((e) => e.seq);

  test('when no filter is given, then events come in seq order up to the limit', async () => {
    expect(await seqsOf({ limit: 100 })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await seqsOf({ limit: 2 })).toEqual([1, 2]);
  });

  test('when filtering by task, grant or principal, then only matching events come back', async () => {
    expect(await seqsOf({ taskId: task1, limit: 100 })).toEqual([1, 2, 3, 5]);
    expect(await seqsOf({ taskId: task2.toUpperCase(), limit: 100 })).toEqual([4, 6]);
    expect(await seqsOf({ grantId: grant1, limit: 100 })).toEqual([2, 5]);
    expect(await seqsOf({ principal: B, limit: 100 })).toEqual([3, 5, 6]);
    expect(await seqsOf({ taskId: task1, principal: A, limit: 100 })).toEqual([1, 2]);
    expect(await seqsOf({ taskId: randomUUID(), limit: 100 })).toEqual([]);
  });

  test('when paging with afterSeq set to the last seq seen, then pages neither overlap nor skip', async () => {
    const page1 = await seqsOf({ taskId: task1, limit: 2 });
    const page2 = await seqsOf({ taskId: task1, limit: 2, afterSeq: page1.at(-1) });
    const page3 = await seqsOf({ taskId: task1, limit: 2, afterSeq: page2.at(-1) });
    expect([page1, page2, page3]).toEqual([[1, 2], [3, 5], []]);
  });

  test('when an event is listed, then every field is mapped', async () => {
    const [e] = await listAuditEvents(t.db, { grantId: grant1, limit: 1 });
    expect(e).toEqual({
      seq: 2,
      at: expect.any(Date),
      type: 'grant.issued',
      taskId: task1,
      grantId: grant1,
      principal: A,
      payload: { n: 2 },
      prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test.each([
    ['limit 0', { limit: 0 }],
    ['limit over 1000', { limit: 1001 }],
    ['fractional limit', { limit: 1.5 }],
    ['negative afterSeq', { limit: 1, afterSeq: -1 }],
    ['task not a uuid', { limit: 1, taskId: 'nope' }],
    ['grant not a uuid', { limit: 1, grantId: '1' }],
  ])('when the query has %s, then it is an invalid request', async (_n, q) => {
    await expect(listAuditEvents(t.db, q)).rejects.toThrow(InvalidRequest);
  });
});
