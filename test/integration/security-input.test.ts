import { AGENT_A, ORCHESTRATOR, openTaskBody, startTestBroker, type TestBroker } from '../helpers/broker';

const JWT_SHAPED = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('hostile text is refused with a 400 before anything changes', () => {
  let t: TestBroker;
  let taskId: string;
  const grants = async () => (await t.broker.database.db.selectFrom('grants').select('id').execute()).length;

  beforeAll(async () => {
    t = await startTestBroker();
    taskId = (
      await t.call('POST', '/v1/tasks', {
        as: ORCHESTRATOR,
        body: openTaskBody({ scopes: ['kv:demo/api-key'] }),
      })
    ).body.id;
  });
  afterAll(async () => {
    await t.stop();
  });

  test.each([
    ['a JWT-shaped audience', { scopes: ['kv:demo/api-key'], audience: JWT_SHAPED }],
    [
      'a Vault-token-shaped tool',
      { scopes: ['kv:demo/api-key'], audience: 'x', context: { tool: `hvs.${'a'.repeat(30)}` } },
    ],
    [
      'an OpenBao-token-shaped tool',
      { scopes: ['kv:demo/api-key'], audience: 'x', context: { tool: `s.${'a'.repeat(24)}` } },
    ],
    [
      'a NUL in the intent',
      { scopes: ['kv:demo/api-key'], audience: 'x', context: { intent: 'read\u0000orders' } },
    ],
    ['a lone surrogate in the audience', { scopes: ['kv:demo/api-key'], audience: 'orders\ud800' }],
  ])('when a grant request carries %s, then it is 400 and nothing is minted', async (_name, body) => {
    const before = await grants();
    const res = await t.call('POST', `/v1/tasks/${taskId}/grants`, { as: AGENT_A, body });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(await grants()).toBe(before);
  });

  test('when a task purpose carries a NUL, then opening is 400 and no task exists', async () => {
    const before = (await t.broker.database.db.selectFrom('tasks').select('id').execute()).length;
    const res = await t.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({ purpose: 'a\u0000b' }),
    });
    expect(res.status).toBe(400);
    expect((await t.broker.database.db.selectFrom('tasks').select('id').execute()).length).toBe(before);
  });

  test('when a path has broken percent-encoding, then it is 400, not 500', async () => {
    const res = await t.call('GET', '/v1/tasks/%E0%A4%A', { as: ORCHESTRATOR });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
