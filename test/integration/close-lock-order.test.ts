import { AGENT_A, eventually, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { stallWrites, waitUntilStalled } from '../helpers/db-stall';
import { grantOk, grantRows, introspect, openTask, requestGrant, taskRow } from '../helpers/scenario';

/**
 * A close must never fail, and a grant request must never crash, because they ran at the same time.
 * Each test pauses one of the broker's grant transactions at a write (see db-stall.ts) and closes the
 * task while it is paused. The transactions that touch a task and its grants must take their row locks
 * in one order; otherwise PostgreSQL aborts one side with `deadlock detected`, which surfaces as a 500.
 *
 * The lock order (fixed, and now enforced in code by server/db/unit-of-work.ts): every unit that touches
 * a task and its grants locks the task row first (FOR NO KEY UPDATE, so foreign-key checks of inserts
 * into leases and revocation_jobs are not blocked) and appends audit last. The units raced here:
 * - activate (server/grants/issue/pipeline.ts `activate`): UPDATE grants, then INSERT leases (key-share
 *   on the task row only), no task lock;
 * - compensate (pipeline.ts `compensate`): task row, `failGrant`, then the reservation back;
 * - a holder's revoke (server/grants/grant-revocation.ts `revokeSubtree`): task row, `markRevoked`, tasks;
 * - the expiry sweeps (grants/grant-expiry.ts, tasks/task-expiry.ts) against close.
 */
describe('close racing with grant transactions (lock order)', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.broker.vault.devVault?.start();
    await t?.stop();
  });

  const close = (taskId: string) =>
    t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
  const settled = async (taskId: string) =>
    eventually(
      async () =>
        (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
      20_000,
    );

  test('when a close lands while a grant is being activated, then close is 200 and the grant 201 or 409, never 500', async () => {
    const taskId = await openTask(t);
    const release = await stallWrites(t.db, {
      table: 'leases',
      event: 'INSERT',
      when: `NEW.kind = 'grant_token'`,
      seconds: 1.5,
    });
    try {
      const pending = requestGrant(t, taskId, ['kv:demo/api-key']);
      expect(await waitUntilStalled(t.db)).toBe(true);
      const closed = await close(taskId);
      const granted = await pending;
      expect({ close: closed.status, grant: granted.status }).toEqual({
        close: 200,
        grant: expect.any(Number),
      });
      expect([201, 409]).toContain(granted.status);
      if (granted.status === 201)
        expect((await introspect(t, granted.body.access_token)).body).toEqual({ active: false });
    } finally {
      await release();
    }
    expect(await settled(taskId)).toBe(true);
  });

  test('when a close lands while a failed grant gives its quota back, then close is 200 and the grant 503, never 500', async () => {
    const taskId = await openTask(t);
    const release = await stallWrites(t.db, {
      table: 'grants',
      event: 'UPDATE',
      when: `NEW.status = 'failed'`,
      seconds: 1.5,
    });
    const devVault = t.broker.vault.devVault!;
    await devVault.stop();
    try {
      const pending = requestGrant(t, taskId, ['kv:demo/api-key']);
      expect(await waitUntilStalled(t.db)).toBe(true);
      const closed = await close(taskId);
      const granted = await pending;
      expect({ close: closed.status, grant: granted.status }).toEqual({ close: 200, grant: 503 });
    } finally {
      await release();
      await devVault.start();
    }
    expect(await settled(taskId)).toBe(true);
  });

  test('when a close lands while the holder revokes a grant, then both answer 200, never 500', async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const release = await stallWrites(t.db, {
      table: 'grants',
      event: 'UPDATE',
      when: `NEW.revoke_reason = 'stall me'`,
      seconds: 1.5,
    });
    try {
      const pending = t.call('POST', `/v1/grants/${grant.grant_id}/revoke`, {
        as: AGENT_A,
        body: { reason: 'stall me' },
      });
      expect(await waitUntilStalled(t.db)).toBe(true);
      const closed = await close(taskId);
      const revoked = await pending;
      expect({ close: closed.status, revoke: revoked.status }).toEqual({ close: 200, revoke: 200 });
    } finally {
      await release();
    }
    expect(await settled(taskId)).toBe(true);
  });

  test('when no close interferes, then the stall harness itself leaves grants working', async () => {
    const taskId = await openTask(t);
    const release = await stallWrites(t.db, {
      table: 'leases',
      event: 'INSERT',
      when: `NEW.kind = 'grant_token'`,
      seconds: 0.2,
    });
    try {
      const res = await requestGrant(t, taskId, ['kv:demo/api-key']);
      expect(res.status).toBe(201);
    } finally {
      await release();
    }
    expect((await grantRows(t, taskId)).map((g) => g.status)).toEqual(['active']);
    expect((await taskRow(t, taskId)).active_grants).toBe(1);
  });
});
