import { ManualClock } from '../../server/shared/clock';
import { APPROVER, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { argsDigest, openTask, requestGrant, taskRow } from '../helpers/scenario';

const DEPLOY = 'tool:demo:deploy';

/**
 * DESIGN "Rules": a privileged scope needs a live human approval recorded on the task; an approval
 * names the scope, the approver, an expiry, optionally a single use and a digest of the exact arguments.
 */
describe('privileged scopes need a live human approval', () => {
  const clock = new ManualClock();
  let t: TestBroker;

  const approve = (taskId: string, body: Record<string, unknown>) =>
    t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: DEPLOY, approver: 'alice@example.com', ...body },
    });

  beforeAll(async () => {
    t = await startTestBroker({ clock, manualBackground: true });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when no approval is recorded, then 403 access_denied citing privileged-needs-approval', async () => {
    const taskId = await openTask(t);
    const res = await requestGrant(t, taskId, [DEPLOY]);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'access_denied', policy_ids: ['privileged-needs-approval'] });
    expect(res.body.reasons).toEqual([`${DEPLOY}: denied by policy privileged-needs-approval`]);
    expect((await taskRow(t, taskId)).grants_issued).toBe(0);
  });

  test('when an approval is live, then 201 with a Vault token; once it expired, then 403 again', async () => {
    const taskId = await openTask(t);
    const approval = await approve(taskId, { ttl: '60s', note: 'deploy the fix' });
    expect(approval.status).toBe(201);
    expect(approval.body).toMatchObject({
      task_id: taskId,
      scope: DEPLOY,
      approver: 'alice@example.com',
      single_use: false,
      used_at: null,
      // The verified identity behind the consent: the approver workload's SVID, not the name it gave.
      approver_kind: 'workload',
      approver_issuer: 'spiffe://dev.grantline.local',
      approver_subject: APPROVER,
      recorded_by: APPROVER,
    });

    const granted = await requestGrant(t, taskId, [DEPLOY]);
    expect(granted.status).toBe(201);
    const secret = granted.body.secrets[0];
    expect(secret).toMatchObject({ scope: DEPLOY, kind: 'token', lease_id: null });
    expect(secret.data.token).toEqual(expect.any(String));
    const info = await t.broker.vault.vault.lookupTokenByAccessor(secret.data.accessor);
    expect(info?.policies).toContain('grantline-demo-deploy');
    const grant = await t.db.db
      .selectFrom('grants')
      .select('approval_id')
      .where('id', '=', granted.body.grant_id)
      .executeTakeFirstOrThrow();
    expect(grant.approval_id).toBe(approval.body.id);

    clock.advance(61_000);
    const late = await requestGrant(t, taskId, [DEPLOY]);
    expect(late.status).toBe(403);
    expect(late.body.policy_ids).toEqual(['privileged-needs-approval']);
  });

  test('when a single-use approval was used once, then a second request is 403', async () => {
    const taskId = await openTask(t);
    const approval = await approve(taskId, { ttl: '10m', single_use: true });
    expect(approval.status).toBe(201);
    const first = await requestGrant(t, taskId, [DEPLOY]);
    expect(first.status).toBe(201);
    const second = await requestGrant(t, taskId, [DEPLOY]);
    expect(second.status).toBe(403);
    expect(second.body.error).toBe('access_denied');
    const used = await t.db.db
      .selectFrom('approvals')
      .select(['used_at', 'used_by_grant'])
      .where('id', '=', approval.body.id)
      .executeTakeFirstOrThrow();
    expect(used.used_by_grant).toBe(first.body.grant_id);
    expect((await taskRow(t, taskId)).grants_issued).toBe(1);
  });

  test('when two requests race for one single-use approval, then exactly one is granted', async () => {
    const taskId = await openTask(t);
    expect((await approve(taskId, { ttl: '10m', single_use: true })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 6 }, () => requestGrant(t, taskId, [DEPLOY])));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 403)).toHaveLength(5);
    const row = await taskRow(t, taskId);
    expect(row).toMatchObject({ grants_issued: 1, active_grants: 1, budget_spent: 5 });
  });

  test('when an approval covers an args digest, then only a request presenting that digest is granted', async () => {
    const taskId = await openTask(t);
    const approved = argsDigest('deploy --target demo-cluster --version 1.2.3');
    expect((await approve(taskId, { ttl: '10m', args_digest: approved })).status).toBe(201);

    const none = await requestGrant(t, taskId, [DEPLOY]);
    expect(none.status).toBe(403);
    const other = await requestGrant(t, taskId, [DEPLOY], {
      context: { tool: 'deploy', args_digest: argsDigest('deploy --target prod') },
    });
    expect(other.status).toBe(403);
    const matching = await requestGrant(t, taskId, [DEPLOY], {
      context: { tool: 'deploy', args_digest: approved },
    });
    expect(matching.status).toBe(201);
  });

  test('when the approval names a scope outside the ceiling or comes from an agent, then it is refused', async () => {
    const taskId = await openTask(t, { scopes: ['kv:demo/api-key'] });
    const outside = await approve(taskId, {});
    expect(outside.status).toBe(400);
    expect(outside.body.error).toBe('invalid_request');
    const byAgent = await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: 'spiffe://dev.grantline.local/agent/researcher',
      body: { scope: 'kv:demo/api-key', approver: 'mallory' },
    });
    expect(byAgent.status).toBe(404);
    expect(
      await t.db.db.selectFrom('approvals').select('id').where('task_id', '=', taskId).execute(),
    ).toEqual([]);
  });

  test('when the orchestrator that opened the task records an approval, then 403 and nothing is recorded', async () => {
    const taskId = await openTask(t);
    const res = await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: ORCHESTRATOR,
      body: { scope: DEPLOY, approver: 'alice@example.com' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'access_denied', policy_ids: ['no-self-approval'] });
    expect(
      await t.db.db.selectFrom('approvals').select('id').where('task_id', '=', taskId).execute(),
    ).toEqual([]);
    expect((await requestGrant(t, taskId, [DEPLOY])).status).toBe(403);
  });

  test('when an approver workload is itself an agent of the task, then it cannot approve there', async () => {
    const taskId = await openTask(t, { agents: [APPROVER] });
    const res = await approve(taskId, {});
    expect(res.status).toBe(403);
    expect(res.body.policy_ids).toEqual(['no-self-approval']);
  });
});
