import { AGENT_A, AGENT_B, AGENT_C, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantOk, openTask, taskRow } from '../helpers/scenario';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

describe('budget returns reach a live pool', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker({ manualBackground: true });
  });
  afterAll(async () => {
    await t.stop();
  });

  const delegate = async (from: string, grantId: string, to: string, budget: number) => {
    const offer = await t.call('POST', `/v1/grants/${grantId}/delegations`, {
      as: from,
      body: { to, scopes: ['kv:demo/api-key'], ttl: 300, budget, may_redelegate: true },
    });
    expect(offer.status).toBe(201);
    const redeemed = await t.call('POST', '/oauth2/token', {
      as: to,
      form: {
        grant_type: EXCHANGE,
        subject_token: offer.body.delegation_token,
        subject_token_type: JWT,
        actor_token: await t.svid(to),
        actor_token_type: JWT,
      },
    });
    expect(redeemed.status).toBe(200);
    return redeemed.body.grant_id as string;
  };

  test('when a child ends after its delegating parent has ended, then its unspent budget still reaches the task', async () => {
    const taskId = await openTask(t, {
      scopes: ['kv:demo/api-key'],
      limits: { max_grants: 20, max_active: 20, max_depth: 3, max_fanout: 3, budget: 20 },
    });
    const a = await grantOk(t, taskId, ['kv:demo/api-key']);
    const b = await delegate(AGENT_A, a.grant_id, AGENT_B, 4); // B: reserved 4, own cost 1
    const c = await delegate(AGENT_B, b, AGENT_C, 2); // C: reserved 2 out of B's, own cost 1
    expect((await taskRow(t, taskId)).budget_spent).toBe(5); // A's cost 1 + B's reservation 4
    // B ends first (its expiry as the sweeper sees it); C lives on.
    await t.db.db
      .updateTable('grants')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', b)
      .execute();
    await t.broker.runBackgroundOnce();
    expect((await taskRow(t, taskId)).budget_spent).toBe(4); // B's unspent 1 came back
    const revoked = await t.call('POST', `/v1/grants/${c}/revoke`, { as: AGENT_C, body: {} });
    expect(revoked.status).toBe(200);
    expect((await taskRow(t, taskId)).budget_spent).toBe(3); // C's unspent 1 passed through the ended B
  });

  test('when the parent has under a second to live, then an offer is refused with 409 rather than born expired', async () => {
    const taskId = await openTask(t, { scopes: ['kv:demo/api-key'] });
    const a = await grantOk(t, taskId, ['kv:demo/api-key']);
    await t.db.db
      .updateTable('grants')
      .set({ expires_at: new Date(Date.now() + 500) })
      .where('id', '=', a.grant_id)
      .execute();
    const offer = await t.call('POST', `/v1/grants/${a.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: ['kv:demo/api-key'] },
    });
    expect(offer.status).toBe(409);
  });
});
