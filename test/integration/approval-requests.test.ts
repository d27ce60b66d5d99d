import { ManualClock } from '../../server/shared/clock';
import {
  AGENT_A,
  APPROVER,
  AUDITOR,
  ORCHESTRATOR,
  STRANGER,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { argsDigest, auditEvents, openTask, requestGrant } from '../helpers/scenario';

const DEPLOY = 'tool:demo:deploy';
const ARGS = 'deploy --target demo-cluster --version 1.2.3';

/**
 * Issue 16, asynchronous approval (the CIBA pattern): an agent asks, an approver decides, the agent
 * waits on a long poll and repeats its grant request with the approved request, which policy evaluates
 * again. The orchestrator that opened the task never approves.
 */
describe('asynchronous approval requests', () => {
  const clock = new ManualClock();
  let t: TestBroker;

  const ask = (taskId: string, o: { as?: string; args?: string; preview?: string } = {}) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: o.as ?? AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval: 'request',
        context: {
          tool: 'deploy',
          target: 'demo-cluster',
          args_digest: argsDigest(o.args ?? ARGS),
          args_preview: o.preview ?? ARGS,
        },
      },
    });
  const decide = (id: string, body: Record<string, unknown>, as = APPROVER) =>
    t.call('POST', `/v1/approval-requests/${id}/decision`, { as, body });
  const comeBack = (taskId: string, id: string, args = ARGS) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval_request_id: id,
        context: { tool: 'deploy', args_digest: argsDigest(args) },
      },
    });

  beforeAll(async () => {
    t = await startTestBroker({ clock, manualBackground: true });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when an agent asks for a privileged scope it has no approval for, then 202 names everything an approver weighs', async () => {
    const taskId = await openTask(t);
    const res = await ask(taskId);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/approval-requests/${res.body.id}?wait=30s`);
    expect(res.body).toMatchObject({
      status: 'pending',
      poll: `/v1/approval-requests/${res.body.id}?wait=30s`,
      task: { id: taskId, purpose: 'summarise last quarter orders', owner: ORCHESTRATOR },
      agent: AGENT_A,
      scopes: [DEPLOY],
      tool: 'deploy',
      target: 'demo-cluster',
      args_digest: argsDigest(ARGS),
      args_preview: ARGS,
      risk: {
        task_type: 'analysis',
        data_sensitivity: 'medium',
        risk_score: 10,
        scopes: [{ name: DEPLOY, sensitivity: 'high', cost: 5, privileged: true }],
      },
      policy_ids: ['agent-request-approval'],
      decision: null,
    });
    // Asking again for the same call gives the same request back, not a second one in the inbox.
    expect((await ask(taskId)).body.id).toBe(res.body.id);
    const types = (await auditEvents(t, taskId)).map((e) => e.type);
    expect(types).toContain('approval_request.opened');
  });

  test('when the approver approves while the agent waits, then the poll answers at once and the repeated request is granted', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    const started = Date.now();
    const waiting = t.call('GET', `/v1/approval-requests/${id}?wait=20s`, { as: AGENT_A });
    await new Promise((r) => setTimeout(r, 300));
    const decided = await decide(id, { decision: 'approve', reason: 'fix for INC-42', approver: 'alice' });
    expect(decided.status).toBe(200);
    const polled = await waiting;
    expect(polled.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(polled.body).toMatchObject({
      status: 'approved',
      decision: {
        outcome: 'approved',
        reason: 'fix for INC-42',
        by: { kind: 'workload', issuer: 'spiffe://dev.grantline.local', subject: APPROVER, name: 'alice' },
      },
      approvals: [{ scope: DEPLOY, single_use: true, used_at: null }],
    });

    const granted = await comeBack(taskId, id);
    expect(granted.status).toBe(201);
    const lineage = await t.call('GET', `/v1/tasks/${taskId}/lineage`, { as: AUDITOR });
    expect(lineage.body.grants[0].approval).toMatchObject({
      approver: 'alice',
      approver_kind: 'workload',
      approver_subject: APPROVER,
      approval_request_id: id,
      args_digest: argsDigest(ARGS),
    });
    // Single use: the approval is spent.
    expect((await comeBack(taskId, id)).status).toBe(403);
    const types = (await auditEvents(t, taskId)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['approval_request.approved', 'approval.recorded', 'grant.issued']),
    );
  });

  test('when the agent comes back with other arguments than those approved, then 403', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    expect((await decide(id, { decision: 'approve', reason: 'ok' })).status).toBe(200);
    const other = await comeBack(taskId, id, 'deploy --target prod');
    expect(other.status).toBe(403);
    expect(other.body.policy_ids).toEqual(['privileged-needs-approval']);
  });

  test('when the agent comes back before a decision, then 409 tells it to wait', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    const early = await comeBack(taskId, id);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: 'conflict', approval_request_id: id });
  });

  test('when the approver denies, then the poll says so with the reason and the agent stays out', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    expect((await decide(id, { decision: 'deny', reason: 'not during the freeze' })).status).toBe(200);
    const polled = await t.call('GET', `/v1/approval-requests/${id}?wait=5s`, { as: AGENT_A });
    expect(polled.body).toMatchObject({ status: 'denied', decision: { reason: 'not during the freeze' } });
    expect(polled.body.approvals).toEqual([]);
    const refused = await comeBack(taskId, id);
    expect(refused.status).toBe(403);
    expect((await requestGrant(t, taskId, [DEPLOY])).status).toBe(403);
    // A decided request cannot be decided again.
    const again = await decide(id, { decision: 'approve', reason: 'changed my mind' });
    expect(again.status).toBe(409);
  });

  test('when the orchestrator or the agent itself decides, then 403; a stranger does not even see it', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    const byOrchestrator = await decide(id, { decision: 'approve', reason: 'me' }, ORCHESTRATOR);
    expect(byOrchestrator.status).toBe(404);
    const byAgent = await decide(id, { decision: 'approve', reason: 'me' }, AGENT_A);
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.policy_ids).toEqual(['no-self-approval']);
    expect((await t.call('GET', `/v1/approval-requests/${id}`, { as: STRANGER })).status).toBe(404);
    const state = await t.call('GET', `/v1/approval-requests/${id}`, { as: APPROVER });
    expect(state.body.status).toBe('pending');
  });

  test('when nobody decides in time, then the request expires and cannot be approved', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId, { args: 'deploy v9' })).body;
    clock.advance(16 * 60_000);
    expect((await t.call('GET', `/v1/approval-requests/${id}`, { as: AGENT_A })).body.status).toBe('expired');
    expect((await decide(id, { decision: 'approve', reason: 'late' })).status).toBe(409);
    await t.broker.runBackgroundOnce();
    const row = await t.db.db
      .selectFrom('approval_requests')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
    expect((await auditEvents(t, taskId)).map((e) => e.type)).toContain('approval_request.expired');
  });

  test('when the request is malformed or asked by an agent the task does not list, then nothing is filed', async () => {
    const taskId = await openTask(t);
    const noDigest = await t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: { scopes: [DEPLOY], audience: 'deployer', approval: 'request', context: { tool: 'deploy' } },
    });
    expect(noDigest.status).toBe(400);
    const secretPreview = await ask(taskId, { preview: 'deploy --password hunter2' });
    expect(secretPreview.status).toBe(400);
    expect(JSON.stringify(secretPreview.body)).not.toContain('hunter2');
    const stranger = await ask(taskId, { as: STRANGER });
    expect(stranger.status).toBe(403);
    const rows = await t.db.db
      .selectFrom('approval_requests')
      .select('id')
      .where('task_id', '=', taskId)
      .execute();
    expect(rows).toEqual([]);
  });

  test('when a task has 20 pending requests, then the next one is 429', async () => {
    const taskId = await openTask(t);
    const results = [];
    for (let i = 0; i < 21; i++) results.push((await ask(taskId, { args: `deploy ${i}` })).status);
    expect(results.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(results[20]).toBe(429);
  });
});
