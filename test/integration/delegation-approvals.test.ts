import { AGENT_A, AGENT_B, APPROVER, AUDITOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantOk, openTask } from '../helpers/scenario';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

describe('delegating privileged scopes, and refusals on the record', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t.stop();
  });

  test('when a privileged scope is delegated under a live approval, then the hop is allowed; without one, refused', async () => {
    const taskId = await openTask(t, {
      limits: { max_grants: 20, max_active: 20, max_depth: 2, max_fanout: 1, budget: 50 },
    });
    await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: 'tool:demo:deploy', approver: 'alice', ttl: '10m' },
    });
    const a = await grantOk(t, taskId, ['tool:demo:deploy']);
    const offered = await t.call('POST', `/v1/grants/${a.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: ['tool:demo:deploy'], ttl: 60, budget: 5 },
    });
    expect(offered.status).toBe(201);
    const redeemed = await t.call('POST', '/oauth2/token', {
      as: AGENT_B,
      form: {
        grant_type: EXCHANGE,
        subject_token: offered.body.delegation_token,
        subject_token_type: JWT,
        actor_token: await t.svid(AGENT_B),
        actor_token_type: JWT,
      },
    });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.secrets[0].kind).toBe('token');

    const overFanout = await t.call('POST', `/v1/grants/${a.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: ['tool:demo:deploy'], ttl: 60 },
    });
    expect(overFanout.status).toBe(429);
    const events = (await t.call('GET', `/v1/audit/events?task=${taskId}&limit=1000`, { as: AUDITOR })).body
      .events;
    const refused = events.filter((e: { type: string }) => e.type === 'delegation.refused');
    expect(refused).toEqual([
      expect.objectContaining({
        principal: AGENT_A,
        payload: expect.objectContaining({ error: 'quota_exceeded', limit: 'max_fanout' }),
      }),
    ]);
    const allowBefore = events[events.indexOf(refused[0]) - 1];
    expect(allowBefore).toMatchObject({
      type: 'decision.allow',
      payload: expect.objectContaining({ action: 'DelegateGrant' }),
    });
  });

  test('when the approval has expired, then a privileged hop is refused by policy', async () => {
    const taskId = await openTask(t);
    await t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: 'tool:demo:deploy', approver: 'alice', ttl: 10 },
    });
    const a = await grantOk(t, taskId, ['tool:demo:deploy']);
    await t.broker.database.db
      .updateTable('approvals')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('task_id', '=', taskId)
      .execute();
    const offered = await t.call('POST', `/v1/grants/${a.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: ['tool:demo:deploy'], ttl: 30 },
    });
    expect(offered.status).toBe(403);
    expect(offered.body.policy_ids).toContain('privileged-needs-approval');
  });
});
