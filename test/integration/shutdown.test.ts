import { AGENT_A, ORCHESTRATOR, openTaskBody, startTestBroker, type TestBroker } from '../helpers/broker';
import { stallWrites, waitUntilStalled } from '../helpers/db-stall';

describe('graceful shutdown', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t.stop();
  });

  test('when the broker stops with a request in flight, then that request finishes and nothing new is accepted', async () => {
    const task = await t.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({ scopes: ['kv:demo/api-key'] }),
    });
    await t.svid(AGENT_A);
    const release = await stallWrites(t.db, { table: 'grants', event: 'INSERT', when: 'true', seconds: 1 });
    const inFlight = t.call('POST', `/v1/tasks/${task.body.id}/grants`, {
      as: AGENT_A,
      body: { scopes: ['kv:demo/api-key'], audience: 'orders-api' },
    });
    expect(await waitUntilStalled(t.db)).toBe(true);
    const stopped = t.broker.stop();
    const response = await inFlight;
    await stopped;
    await release().catch(() => undefined);
    expect(response.status).toBe(201);
    await expect(fetch(`${t.broker.url}/healthz`)).rejects.toThrow();
    expect(t.broker.database.pool.ended).toBe(true);
  });
});
