import { AGENT_A, startTestBroker, type TestBroker } from '../helpers/broker';
import { openTask, requestGrant, taskRow } from '../helpers/scenario';

const KV = 'kv:demo/api-key';

/** DESIGN "Rules": limits hold under concurrency; two hundred parallel requests against a budget of fifty issue exactly fifty. */
describe('task limits hold under parallel grant requests', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const statuses = (rs: Array<{ status: number }>) => {
    const counts: Record<number, number> = {};
    for (const r of rs) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return counts;
  };

  test('when 200 requests of cost 1 race for a budget of 50, then exactly 50 are granted and 150 get 429 budget', async () => {
    const taskId = await openTask(t, {
      scopes: [KV],
      limits: { max_grants: 1000, max_active: 1000, max_depth: 3, max_fanout: 3, budget: 50 },
    });
    const results = await Promise.all(Array.from({ length: 200 }, () => requestGrant(t, taskId, [KV])));
    expect(statuses(results)).toEqual({ 201: 50, 429: 150 });
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body).toMatchObject({ error: 'quota_exceeded', limit: 'budget' });
    }
    expect(await taskRow(t, taskId)).toEqual({
      status: 'open',
      grants_issued: 50,
      active_grants: 50,
      budget_spent: 50,
      actions_spent: 0,
    });
    const view = await t.call('GET', `/v1/tasks/${taskId}`, {
      as: 'spiffe://dev.grantline.local/orchestrator/planner',
    });
    expect(view.body.counters).toEqual({
      grants_issued: 50,
      active_grants: 50,
      budget_spent: 50,
      budget_remaining: 0,
      actions_spent: 0,
      actions_remaining: null,
    });
    const grants = await t.db.db
      .selectFrom('grants')
      .select(['status'])
      .where('task_id', '=', taskId)
      .execute();
    expect(grants).toHaveLength(50);
    expect(grants.every((g) => g.status === 'active')).toBe(true);
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.grant_id));
    expect(ids.size).toBe(50);
  });

  test('when 40 requests race for max_active 5, then 5 are granted, the rest get 429 max_active, and a revoke frees one slot', async () => {
    const taskId = await openTask(t, {
      scopes: [KV],
      limits: { max_grants: 1000, max_active: 5, max_depth: 3, max_fanout: 3, budget: 1000 },
    });
    const results = await Promise.all(Array.from({ length: 40 }, () => requestGrant(t, taskId, [KV])));
    expect(statuses(results)).toEqual({ 201: 5, 429: 35 });
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body).toMatchObject({ error: 'quota_exceeded', limit: 'max_active' });
    }
    expect(await taskRow(t, taskId)).toMatchObject({ grants_issued: 5, active_grants: 5, budget_spent: 5 });

    const victim = results.find((r) => r.status === 201)!.body.grant_id;
    const revoked = await t.call('POST', `/v1/grants/${victim}/revoke`, { as: AGENT_A, body: {} });
    expect(revoked.status).toBe(200);
    expect((await taskRow(t, taskId)).active_grants).toBe(4);

    const again = await Promise.all(Array.from({ length: 10 }, () => requestGrant(t, taskId, [KV])));
    expect(statuses(again)).toEqual({ 201: 1, 429: 9 });
    expect(await taskRow(t, taskId)).toMatchObject({ grants_issued: 6, active_grants: 5, budget_spent: 6 });
  });

  test('when 30 requests race for max_grants 7, then exactly 7 are granted and the rest get 429 max_grants', async () => {
    const taskId = await openTask(t, {
      scopes: [KV],
      limits: { max_grants: 7, max_active: 1000, max_depth: 3, max_fanout: 3, budget: 1000 },
    });
    const results = await Promise.all(Array.from({ length: 30 }, () => requestGrant(t, taskId, [KV])));
    expect(statuses(results)).toEqual({ 201: 7, 429: 23 });
    expect(results.filter((r) => r.status === 429).every((r) => r.body.limit === 'max_grants')).toBe(true);
    expect((await taskRow(t, taskId)).grants_issued).toBe(7);
  });
});
