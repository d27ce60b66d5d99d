import { randomUUID } from 'node:crypto';
import {
  AGENT_A,
  AGENT_B,
  AGENT_C,
  ORCHESTRATOR,
  RESOURCE,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import {
  auditEvents,
  configDirWithScopes,
  delegateOk,
  grantOk,
  openTask,
  taskRow,
} from '../helpers/scenario';

const KV = 'kv:demo/api-key';
const now = () => new Date().toISOString();
const calls = (n: number, cost = 1) =>
  Array.from({ length: n }, () => ({ cost, at: now(), tool: 'count_orders' }));

/**
 * Action metering (issue 15): resource servers report tool calls (`POST /v1/grants/:id/usage`); they count
 * against `limits.max_actions` across the whole delegation tree (a delegation may reserve a share); the
 * report that spends a pool revokes every grant drawing on it, and the feed names them.
 */
describe('action metering', () => {
  let t: TestBroker;
  let configDir: string;
  beforeAll(async () => {
    // A dear scope: each call with a token carrying it counts 5.
    configDir = configDirWithScopes({
      'tool:demo:search': {
        cost: 1,
        action_cost: 5,
        sensitivity: 'low',
        vault: { kind: 'token', policies: ['grantline-demo-kv'] },
        audiences: ['orders-api'],
      },
    });
    t = await startTestBroker({ env: { GRANTLINE_CONFIG_DIR: configDir } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const open = (maxActions: number | undefined, extra: Record<string, unknown> = {}) =>
    openTask(t, {
      scopes: [KV, 'tool:demo:search'],
      limits: {
        max_grants: 50,
        max_active: 50,
        max_depth: 3,
        max_fanout: 5,
        budget: 100,
        ...(maxActions === undefined ? {} : { max_actions: maxActions }),
      },
      ...extra,
    });
  const report = (grantId: string, body: Record<string, unknown>, as = RESOURCE) =>
    t.call('POST', `/v1/grants/${grantId}/usage`, { as, body });
  const status = async (grantId: string) =>
    (await t.db.db.selectFrom('grants').select('status').where('id', '=', grantId).executeTakeFirstOrThrow())
      .status;

  test('when a resource server reports calls, then they count against the task and the answer says what is left', async () => {
    const taskId = await open(10);
    const a = await grantOk(t, taskId, [KV]);
    const res = await report(a.grant_id, { calls: calls(3) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      grant_id: a.grant_id,
      calls: 3,
      counted: 3,
      charged: 3,
      action_cost: 1,
      actions: { pool: 'task', limit: 10, spent: 3, remaining: 7 },
      revoked: [],
      duplicate: false,
    });
    const shown = await t.client(ORCHESTRATOR).tasks.show(taskId);
    expect(shown.limits.max_actions).toBe(10);
    expect(shown.counters).toMatchObject({ actions_spent: 3, actions_remaining: 7 });
    const usage = (await auditEvents(t, taskId)).filter((e) => e.type === 'grant.usage');
    expect(usage).toHaveLength(1);
    expect(usage[0]!.principal).toBe(RESOURCE);
    expect(usage[0]!.payload).toMatchObject({ calls: 3, charged: 3, tools: ['count_orders'] });
  });

  test('when the same report is sent twice (a retry), then it counts once; its id on another grant is 409', async () => {
    const taskId = await open(10);
    const a = await grantOk(t, taskId, [KV]);
    const b = await grantOk(t, taskId, [KV]);
    const body = { report_id: randomUUID(), calls: calls(4) };
    expect((await report(a.grant_id, body)).body).toMatchObject({ counted: 4, duplicate: false });
    expect((await report(a.grant_id, body)).body).toMatchObject({ counted: 4, duplicate: true });
    expect((await taskRow(t, taskId)).actions_spent).toBe(4);
    const elsewhere = await report(b.grant_id, body);
    expect(elsewhere.status).toBe(409);
  });

  test('when a scope has an action cost, then each call counts that many times its cost', async () => {
    const taskId = await open(100);
    const g = await grantOk(t, taskId, [KV, 'tool:demo:search']);
    const res = await report(g.grant_id, {
      calls: [
        { cost: 2, at: now() },
        { cost: 1, at: now() },
      ],
    });
    expect(res.body).toMatchObject({ action_cost: 5, charged: 15, actions: { spent: 15, remaining: 85 } });
  });

  test('when the task has no max_actions, then calls are counted and nothing is ever revoked for them', async () => {
    const taskId = await open(undefined);
    const a = await grantOk(t, taskId, [KV]);
    const res = await report(a.grant_id, { calls: calls(1000) });
    expect(res.body).toMatchObject({ counted: 1000, actions: { limit: null, spent: 1000, remaining: null } });
    expect(await status(a.grant_id)).toBe('active');
  });

  test('when a report spends the task\u2019s pool, then every grant of the task is revoked, named in the feed, and new grants are refused', async () => {
    const taskId = await open(5);
    const a = await grantOk(t, taskId, [KV]);
    const other = await grantOk(t, taskId, [KV]);
    const child = await delegateOk(t, {
      from: AGENT_A,
      parentId: a.grant_id,
      to: AGENT_B,
      scopes: [KV],
      budget: 1,
    });
    const res = await report(child.grant_id, { calls: calls(7) });
    expect(res.body).toMatchObject({ counted: 5, charged: 5, actions: { remaining: 0 } });
    expect([...res.body.revoked].sort()).toEqual([a.grant_id, other.grant_id, child.grant_id].sort());
    for (const id of [a.grant_id, other.grant_id, child.grant_id]) expect(await status(id)).toBe('revoked');
    const feed = await t.client(RESOURCE).revocations({ task: taskId });
    expect(feed.revocations.map((r) => r.jti).sort()).toEqual(
      [a.grant_id, other.grant_id, child.grant_id].sort(),
    );
    const refused = await t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: { scopes: [KV], audience: 'orders-api' },
    });
    expect(refused.status).toBe(429);
    expect(refused.body.limit).toBe('max_actions');
    expect((await report(a.grant_id, { calls: calls(1) })).status).toBe(409);
  });

  test('when a delegation reserves a share, then the child draws on it alone, its spending revokes only its subtree, and its parent goes on', async () => {
    const taskId = await open(100);
    const a = await grantOk(t, taskId, [KV]);
    const b = await delegateOk(t, {
      from: AGENT_A,
      parentId: a.grant_id,
      to: AGENT_B,
      scopes: [KV],
      budget: 2,
      actions: 10,
      may_redelegate: true,
    });
    // C shares B's pool (its offer reserves nothing).
    const c = await delegateOk(t, {
      from: AGENT_B,
      parentId: b.grant_id,
      to: AGENT_C,
      scopes: [KV],
      budget: 1,
    });
    expect((await t.client(ORCHESTRATOR).tasks.show(taskId)).counters.actions_spent).toBe(10);
    const first = await report(c.grant_id, { calls: calls(4) });
    expect(first.body.actions).toMatchObject({
      pool: 'grant',
      pool_grant_id: b.grant_id,
      limit: 10,
      spent: 4,
    });
    const last = await report(b.grant_id, { calls: calls(8) });
    expect(last.body).toMatchObject({ counted: 6, actions: { remaining: 0 } });
    expect([...last.body.revoked].sort()).toEqual([b.grant_id, c.grant_id].sort());
    expect(await status(a.grant_id)).toBe('active');
    expect((await report(a.grant_id, { calls: calls(2) })).body.actions).toMatchObject({
      pool: 'task',
      spent: 12,
    });
  });

  test('when a child with a share ends early, or its offer dies unredeemed, then what it left unspent goes back up', async () => {
    const taskId = await open(50);
    const a = await grantOk(t, taskId, [KV]);
    const b = await delegateOk(t, {
      from: AGENT_A,
      parentId: a.grant_id,
      to: AGENT_B,
      scopes: [KV],
      budget: 1,
      actions: 20,
    });
    await report(b.grant_id, { calls: calls(3) });
    const spent = async () => (await t.client(ORCHESTRATOR).tasks.show(taskId)).counters.actions_spent;
    expect(await spent()).toBe(20);
    await t.client(AGENT_A).grants.revoke(b.grant_id, 'done with it');
    expect(await spent()).toBe(3);
    const offer = await t
      .client(AGENT_A)
      .grants.delegate(a.grant_id, { to: AGENT_B, scopes: [KV], actions: 15 });
    expect(offer.actions).toBe(15);
    expect(await spent()).toBe(18);
    await t.client(AGENT_A).grants.revoke(a.grant_id, 'offer dies with its parent');
    expect(await spent()).toBe(3);
  });

  test('when an offer asks for more actions than its parent\u2019s pool has, then it is 429 max_actions', async () => {
    const taskId = await open(5);
    const a = await grantOk(t, taskId, [KV]);
    const res = await t.call('POST', `/v1/grants/${a.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: [KV], actions: 6 },
    });
    expect(res.status).toBe(429);
    expect(res.body.limit).toBe('max_actions');
  });

  test('when someone other than a resource server reports, or the report is malformed, then nothing is counted', async () => {
    const taskId = await open(10);
    const a = await grantOk(t, taskId, [KV]);
    expect((await report(a.grant_id, { calls: calls(1) }, AGENT_A)).status).toBe(404);
    expect((await report(a.grant_id, { calls: calls(1) }, ORCHESTRATOR)).status).toBe(404);
    expect((await report(randomUUID(), { calls: calls(1) })).status).toBe(404);
    const bad: Array<Record<string, unknown>> = [
      { calls: [] },
      { calls: [{ cost: 0, at: now() }] },
      { calls: [{ cost: 1 }] },
      { calls: [{ cost: 1, at: 'yesterday' }] },
      { calls: [{ cost: 1, at: new Date(Date.now() + 3_600_000).toISOString() }] },
      { calls: [{ cost: 1, at: '2020-01-01T00:00:00Z' }] },
      { calls: calls(1), extra: true },
      { report_id: 'not-a-uuid', calls: calls(1) },
    ];
    for (const body of bad) {
      const res = await report(a.grant_id, body);
      expect([res.status, res.body.error]).toEqual([400, 'invalid_request']);
    }
    expect((await t.client(ORCHESTRATOR).tasks.show(taskId)).counters.actions_spent).toBe(0);
  });
});

describe('action metering under concurrency', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const used = async (taskId: string) =>
    t.db.db
      .selectFrom('grants')
      .select(['id', 'status', 'actions_used'])
      .where('task_id', '=', taskId)
      .execute();

  test('when 200 reports race across a delegation tree on the task\u2019s pool of 50, then exactly 50 are counted and the whole tree is revoked', async () => {
    const taskId = await openTask(t, {
      scopes: [KV],
      limits: { max_grants: 20, max_active: 20, max_depth: 3, max_fanout: 5, budget: 100, max_actions: 50 },
    });
    const a = await grantOk(t, taskId, [KV]);
    const b = await delegateOk(t, {
      from: AGENT_A,
      parentId: a.grant_id,
      to: AGENT_B,
      scopes: [KV],
      budget: 2,
      may_redelegate: true,
    });
    const c = await delegateOk(t, {
      from: AGENT_B,
      parentId: b.grant_id,
      to: AGENT_C,
      scopes: [KV],
      budget: 1,
    });
    const tree = [a.grant_id, b.grant_id, c.grant_id];
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.call('POST', `/v1/grants/${tree[i % 3]}/usage`, { as: RESOURCE, body: { calls: calls(1) } }),
      ),
    );
    const counted = answers.filter((r) => r.status === 200).reduce((sum, r) => sum + r.body.counted, 0);
    expect(counted).toBe(50);
    expect(answers.every((r) => r.status === 200 || (r.status === 409 && r.body.error === 'conflict'))).toBe(
      true,
    );
    const rows = await used(taskId);
    expect(rows.reduce((sum, g) => sum + g.actions_used, 0)).toBe(50);
    expect(rows.every((g) => g.status === 'revoked')).toBe(true);
    expect((await taskRow(t, taskId)).actions_spent).toBe(50);
  });

  test('when 120 reports race on two sibling shares of 10 and the parent\u2019s pool, then no share gives out more than its 10 and the parent exactly what is left', async () => {
    const taskId = await openTask(t, {
      scopes: [KV],
      limits: { max_grants: 20, max_active: 20, max_depth: 3, max_fanout: 5, budget: 100, max_actions: 40 },
    });
    const a = await grantOk(t, taskId, [KV]);
    const share = (to: string) =>
      delegateOk(t, { from: AGENT_A, parentId: a.grant_id, to, scopes: [KV], budget: 1, actions: 10 });
    const b = await share(AGENT_B);
    const c = await share(AGENT_C);
    const targets = [b.grant_id, c.grant_id, a.grant_id];
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        t.call('POST', `/v1/grants/${targets[i % 3]}/usage`, { as: RESOURCE, body: { calls: calls(1) } }),
      ),
    );
    expect(answers.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const rows = new Map((await used(taskId)).map((g) => [g.id, g]));
    // Only the parent draws on the task's pool: 40 - 2 × 10 reserved = 20, spent by its own calls, which
    // revokes the whole tree; each share never gives out more than its 10, whatever the interleaving.
    expect(rows.get(a.grant_id)!.actions_used).toBe(20);
    for (const id of [b.grant_id, c.grant_id]) expect(rows.get(id)!.actions_used).toBeLessThanOrEqual(10);
    expect([...rows.values()].every((g) => g.status === 'revoked')).toBe(true);
    // What the task's pool gave out is exactly what was used: the unused parts of the shares came back.
    const total = [...rows.values()].reduce((sum, g) => sum + g.actions_used, 0);
    expect((await taskRow(t, taskId)).actions_spent).toBe(total);
  });
});
