import { sql } from 'kysely';
import { ManualClock } from '../../server/shared/clock';
import {
  AGENT_A,
  APPROVER,
  eventually,
  ORCHESTRATOR,
  STRANGER,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { grantOk, openTask, requestGrant, taskRow } from '../helpers/scenario';

describe('a grant that fails or is abandoned gives back everything it took', () => {
  let t: TestBroker;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestBroker({
      clock,
      manualBackground: true,
      env: { GRANTLINE_REVOCATION_MAX_ATTEMPTS: '2' },
    });
  });
  afterAll(async () => {
    await t.broker.vault.devVault?.start().catch(() => undefined);
    await t.stop();
  });

  test('when minting fails with Vault down, then a single-use approval is not burned', async () => {
    const taskId = await openTask(t);
    await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: 'tool:demo:deploy', approver: 'alice', single_use: true },
    });
    await t.broker.vault.devVault!.stop();
    expect((await requestGrant(t, taskId, ['tool:demo:deploy'])).status).toBe(503);
    await t.broker.vault.devVault!.start();
    expect((await requestGrant(t, taskId, ['tool:demo:deploy'])).status).toBe(201);
    expect((await requestGrant(t, taskId, ['tool:demo:deploy'])).status).toBe(403);
  });

  test('when the broker died between reservation and activation, then the sweep fails the grant and releases its quota', async () => {
    const taskId = await openTask(t);
    const before = await taskRow(t, taskId);
    // What a crash after the reservation transaction leaves behind: a pending grant holding quota.
    await sql`update tasks set grants_issued = grants_issued + 1, active_grants = active_grants + 1, budget_spent = budget_spent + 1 where id = ${taskId}`.execute(
      t.db.db,
    );
    await sql`insert into grants (id, task_id, holder, chain, scopes, audiences, ttl_seconds, cost, policy_version, status, issued_at, expires_at)
      values (gen_random_uuid(), ${taskId}, ${AGENT_A}, ${[AGENT_A]}, ${['kv:demo/api-key']}, ${['x']}, 60, 1, 'v', 'pending', ${clock.now()}, ${new Date(clock.now().getTime() + 60000)})`.execute(
      t.db.db,
    );
    clock.advance(121_000);
    await t.broker.runBackgroundOnce();
    expect(await taskRow(t, taskId)).toMatchObject({
      grants_issued: before.grants_issued,
      active_grants: before.active_grants,
      budget_spent: before.budget_spent,
    });
    const statuses = await t.db.db
      .selectFrom('grants')
      .select('status')
      .where('task_id', '=', taskId)
      .execute();
    expect(statuses.map((g) => g.status)).toEqual(['failed']);
  });

  test('when an agent not listed on a closed task asks for a grant, then it learns nothing about the task (403)', async () => {
    const taskId = await openTask(t);
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    const res = await requestGrant(t, taskId, ['kv:demo/api-key'], { as: STRANGER });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toContain('closing');
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'])).status).toBe(409);
  });

  test('when Vault stays down past the retry budget, then the leases turn irrevocable (not retried for ever), the close ends, and reconciliation revokes them once Vault is back', async () => {
    const taskId = await openTask(t);
    await grantOk(t, taskId, ['kv:demo/api-key']);
    await t.broker.vault.devVault!.stop();
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    for (let i = 0; i < 4; i++) {
      clock.advance(61_000);
      await t.broker.runBackgroundOnce();
    }
    const stuck = (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;
    expect(stuck.status).toBe('closed');
    expect(stuck.complete).toBe(false);
    expect(stuck.grants[0].leases.every((l: { state: string }) => l.state === 'irrevocable')).toBe(true);
    expect(stuck.task_token.state).toBe('irrevocable');
    const metrics = await t.broker.metrics.registry.getSingleMetricAsString(
      'grantline_revocation_irrevocable_total',
    );
    expect(metrics).toMatch(/grantline_revocation_irrevocable_total\{kind="grant_token"\} [1-9]/);
    expect(t.logs.some((l) => l.includes('IRREVOCABLE') && l.includes('"alert":true'))).toBe(true);
    await t.broker.vault.devVault!.start();
    const done = await eventually(async () => {
      clock.advance(61_000);
      await t.broker.runBackgroundOnce();
      return (
        (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true
      );
    }, 15_000);
    expect(done).toBe(true);
  });
});
