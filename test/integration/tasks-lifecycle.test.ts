import {
  AGENT_A,
  APPROVER,
  AUDITOR,
  eventually,
  ORCHESTRATOR,
  openTaskBody,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { openTask, requestGrant } from '../helpers/scenario';

const OTHER_ORCHESTRATOR = 'spiffe://dev.grantline.local/orchestrator/other';

/** Opening, reading, listing and closing tasks: who may, what bad input gets, what a closed task refuses. */
describe('the task lifecycle over HTTP', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const taskCount = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('when an orchestrator opens a task, then 201 with its limits, zero counters and a Location', async () => {
    const res = await t.call('POST', '/v1/tasks', { as: ORCHESTRATOR, body: openTaskBody({ ttl: '15m' }) });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/tasks/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'open',
      owner: ORCHESTRATOR,
      agents: [AGENT_A],
      ttl: 900,
      scopes: ['db:demo:read', 'kv:demo/api-key', 'tool:demo:deploy'],
      limits: { max_grants: 50, max_active: 20, max_depth: 3, max_fanout: 3, budget: 100 },
      counters: { grants_issued: 0, active_grants: 0, budget_spent: 0, budget_remaining: 100 },
    });
    const row = await t.db.db
      .selectFrom('tasks')
      .select('vault_token_accessor')
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    const token = await t.broker.vault.vault.lookupTokenByAccessor(row.vault_token_accessor!);
    expect(token).toMatchObject({ orphan: true });
  });

  test.each([
    ['an invalid SPIFFE ID among the agents', { agents: ['spiffe://dev.grantline.local/agent/../root'] }],
    ['an unknown scope', { scopes: ['db:nope:read'] }],
    ['a TTL beyond seven days', { ttl: '30d' }],
    ['an unknown limit', { limits: { max_grants: 5, surprise: 1 } }],
    ['a risk score above 100', { context: { task_type: 'x', data_sensitivity: 'low', risk_score: 101 } }],
  ])('when the task has %s, then 400 invalid_request and no task is created', async (_what, overrides) => {
    const before = await taskCount();
    const res = await t.call('POST', '/v1/tasks', { as: ORCHESTRATOR, body: openTaskBody(overrides) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(await taskCount()).toBe(before);
  });

  test('when an agent tries to open a task, then 403 and no task is created', async () => {
    const before = await taskCount();
    const res = await t.call('POST', '/v1/tasks', { as: AGENT_A, body: openTaskBody() });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect(await taskCount()).toBe(before);
  });

  test('when another orchestrator reads or closes the task, then 404; the auditor reads it', async () => {
    const taskId = await openTask(t);
    expect((await t.call('GET', `/v1/tasks/${taskId}`, { as: OTHER_ORCHESTRATOR })).status).toBe(404);
    expect(
      (await t.call('POST', `/v1/tasks/${taskId}/close`, { as: OTHER_ORCHESTRATOR, body: {} })).status,
    ).toBe(404);
    expect((await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: AGENT_A })).status).toBe(404);
    const audited = await t.call('GET', `/v1/tasks/${taskId}`, { as: AUDITOR });
    expect(audited.status).toBe(200);
    expect(audited.body.status).toBe('open');
    const listed = await t.call('GET', '/v1/tasks?status=open', { as: OTHER_ORCHESTRATOR });
    expect(listed.body.tasks.map((x: { id: string }) => x.id)).not.toContain(taskId);
  });

  test('when a task is closed, then grants and approvals are refused with 409 and it lists under closed', async () => {
    const taskId = await openTask(t);
    expect(
      (await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: { reason: 'finished' } }))
        .status,
    ).toBe(200);
    const grant = await requestGrant(t, taskId, ['kv:demo/api-key']);
    expect(grant.status).toBe(409);
    expect(grant.body).toMatchObject({
      error: 'conflict',
      task_status: expect.stringMatching(/^(closing|closed)$/),
    });
    const approval = await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: 'tool:demo:deploy', approver: 'alice' },
    });
    expect(approval.status).toBe(409);
    expect(
      await eventually(
        async () =>
          (await t.call('GET', `/v1/tasks/${taskId}`, { as: ORCHESTRATOR })).body.status === 'closed',
      ),
    ).toBe(true);
    const closed = await t.call('GET', '/v1/tasks?status=closed', { as: ORCHESTRATOR });
    expect(closed.status).toBe(200);
    expect(closed.body.tasks.map((x: { id: string }) => x.id)).toContain(taskId);
    const open = await t.call('GET', '/v1/tasks?status=open', { as: ORCHESTRATOR });
    expect(open.body.tasks.map((x: { id: string }) => x.id)).not.toContain(taskId);
    const view = (await t.call('GET', `/v1/tasks/${taskId}`, { as: ORCHESTRATOR })).body;
    expect(view).toMatchObject({
      close_reason: 'finished',
      closing_at: expect.any(String),
      closed_at: expect.any(String),
    });
    expect((await t.call('GET', '/v1/tasks?status=bogus', { as: ORCHESTRATOR })).status).toBe(400);
  });
});
