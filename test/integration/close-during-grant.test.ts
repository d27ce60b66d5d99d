import { eventually, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantRows, leaseRows, openTask, requestGrant, taskRow } from '../helpers/scenario';

/** A promise the test resolves by hand, and one that tells when the gated call was reached. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const wasReached = new Promise<void>((r) => {
    reached = r;
  });
  return { open, opened, reached, wasReached };
}

/**
 * DESIGN "Rules": once `close` returns, no grant of the task is active. A grant that is being minted
 * while the task closes must not come out alive: the caller learns the task is no longer open (409),
 * and whatever was minted for it is revoked.
 */
describe('closing a task while one of its grants is being minted', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const closeAndSettle = async (taskId: string) => {
    const closed = await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    expect(closed.status).toBe(200);
    expect(
      await eventually(
        async () =>
          (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
      ),
    ).toBe(true);
  };

  const expectNothingAlive = async (taskId: string) => {
    expect((await grantRows(t, taskId)).map((g) => g.status)).toEqual(['revoked']);
    const grantToken = (await leaseRows(t, taskId)).find((l) => l.kind === 'grant_token')!;
    expect(await t.broker.vault.vault.lookupTokenByAccessor(grantToken.vault_token_accessor!)).toBeNull();
    expect(
      await eventually(async () =>
        (await leaseRows(t, taskId)).every((l) => l.state === 'revoked' || l.state === 'expired'),
      ),
    ).toBe(true);
    expect(
      await eventually(
        async () =>
          (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
      ),
    ).toBe(true);
    expect((await taskRow(t, taskId)).status).toBe('closed');
  };

  test('when the close lands after everything was minted but before activation, then 409 conflict and the grant is revoked', async () => {
    const taskId = await openTask(t);
    const g = gate();
    const tokens = t.broker.tokens;
    const original = tokens.mintAccessToken;
    tokens.mintAccessToken = async (c) => {
      g.reached();
      await g.opened;
      return original(c);
    };
    try {
      const pending = requestGrant(t, taskId, ['kv:demo/api-key']);
      await g.wasReached;
      await closeAndSettle(taskId);
      g.open();
      const res = await pending;
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('conflict');
      expect(res.body).not.toHaveProperty('access_token');
    } finally {
      tokens.mintAccessToken = original;
      g.open();
    }
    await expectNothingAlive(taskId);
  });

  /** Holds the grant's KV read until the close has revoked everything, then lets it go on. */
  const raceCloseWithSecretRead = async () => {
    const taskId = await openTask(t);
    const g = gate();
    const adapter = t.broker.vault.vault;
    const original = adapter.readKv;
    adapter.readKv = async (token, path) => {
      if (path === 'secret/data/demo/api-key') {
        g.reached();
        await g.opened;
      }
      return original(token, path);
    };
    try {
      const pending = requestGrant(t, taskId, ['kv:demo/api-key']);
      await g.wasReached;
      await closeAndSettle(taskId);
      g.open();
      return { taskId, res: await pending };
    } finally {
      adapter.readKv = original;
      g.open();
    }
  };

  test('when the close lands while a scope secret is being read, then no token comes out and the grant token is revoked', async () => {
    const { taskId, res } = await raceCloseWithSecretRead();
    expect([409, 503]).toContain(res.status);
    expect(res.body).not.toHaveProperty('access_token');
    expect(res.body).not.toHaveProperty('secrets');
    await expectNothingAlive(taskId);
  });

  // Fixed (server/grants/issue/pipeline.ts, issueGrant's catch around mint): when minting fails
  // because a close already revoked the task's token tree, the grant is no longer `pending` (failGrant
  // finds it no longer pending), the caller must not get 503 `unavailable` — "retry later" for a request that can never
  // succeed. Vault is up; the task is closed: that is 409 `conflict` (DESIGN "HTTP API").
  test('when the close lands while a scope secret is being read, then the answer is 409 conflict, not 503', async () => {
    const { res } = await raceCloseWithSecretRead();
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('conflict');
  });
});
