import { decodeJwt } from 'jose';
import { AGENT_A, AGENT_B, APPROVER, startTestBroker, type TestBroker } from '../helpers/broker';
import { argsDigest, grantRows, introspect, openTask, requestGrant } from '../helpers/scenario';

const DEPLOY = 'tool:demo:deploy';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

/**
 * Issue 11 §6 (DESIGN "Access tokens"): a grant that rests on a digest-bound approval carries the
 * approved `args_digest` in its access token and in introspection, so the tool can check the exact call;
 * a grant against such an approval must present the same digest, and a delegated grant keeps it.
 */
describe('args_digest travels from the approval into the token', () => {
  let t: TestBroker;
  const approved = argsDigest('deploy --target demo-cluster --version 1.2.3');

  const approve = (taskId: string, body: Record<string, unknown>) =>
    t.call('POST', `/v1/tasks/${taskId}/approvals`, {
      as: APPROVER,
      body: { scope: DEPLOY, approver: 'alice@example.com', ttl: '10m', ...body },
    });
  const withDigest = (digest?: string) => ({
    context: { tool: 'deploy', ...(digest ? { args_digest: digest } : {}) },
  });

  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when the approval is digest-bound, then only the same digest is granted, and the token and introspection carry it', async () => {
    const taskId = await openTask(t);
    expect((await approve(taskId, { args_digest: approved })).status).toBe(201);

    const without = await requestGrant(t, taskId, [DEPLOY], withDigest());
    expect(without.status).toBe(403);
    const other = await requestGrant(t, taskId, [DEPLOY], withDigest(argsDigest('deploy --target prod')));
    expect(other.status).toBe(403);
    expect(await grantRows(t, taskId)).toEqual([]);

    const granted = await requestGrant(t, taskId, [DEPLOY], withDigest(approved));
    expect(granted.status).toBe(201);
    expect(decodeJwt(granted.body.access_token).args_digest).toBe(approved);
    const seen = await introspect(t, granted.body.access_token);
    expect(seen.body).toMatchObject({ active: true, args_digest: approved });
  });

  test('when the approval covers any arguments, then the token carries no args_digest', async () => {
    const taskId = await openTask(t);
    expect((await approve(taskId, {})).status).toBe(201);
    const granted = await requestGrant(t, taskId, [DEPLOY], withDigest(approved));
    expect(granted.status).toBe(201);
    expect(decodeJwt(granted.body.access_token)).not.toHaveProperty('args_digest');
    expect((await introspect(t, granted.body.access_token)).body).not.toHaveProperty('args_digest');
  });

  test('when a digest-bound grant is delegated, then the child is bound to the same digest', async () => {
    // The default test task admits AGENT_B as a delegate (test/helpers/broker.ts).
    const taskId = await openTask(t);
    expect((await approve(taskId, { args_digest: approved })).status).toBe(201);
    const parent = await requestGrant(t, taskId, [DEPLOY], withDigest(approved));
    expect(parent.status).toBe(201);
    const offered = await t.call('POST', `/v1/grants/${parent.body.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: [DEPLOY], ttl: 60, budget: 5 },
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
    expect(decodeJwt(redeemed.body.access_token).args_digest).toBe(approved);
    expect((await introspect(t, redeemed.body.access_token)).body.args_digest).toBe(approved);
  });
});
