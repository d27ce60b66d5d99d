import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import {
  AGENT_A,
  AGENT_B,
  ORCHESTRATOR,
  openTaskBody,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { configDirWithScopes, grantOk, grantRows, requestGrant } from '../helpers/scenario';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

// A policy that only an audience-aware policy engine can evaluate: it must see the requested audience.
const BLOCKED_AUDIENCE_POLICY = `@id("no-grants-for-the-blocked-api")
forbid (principal, action in [Action::"RequestGrant", Action::"RedeemGrant"], resource is Scope)
when { context has audience && context.audience == "blocked-api" };
`;

/**
 * Issue 11 §6: each task declares the audiences its tokens may carry (by default the audiences its
 * scopes name in the catalogue); the audience a grant asks for is checked (400 invalid_target) and is
 * visible to policy; a delegated grant keeps its parent's audience.
 */
describe('task audiences', () => {
  let t: TestBroker;
  let configDir: string;

  const open = async (overrides: Record<string, unknown>) =>
    t.call('POST', '/v1/tasks', { as: ORCHESTRATOR, body: openTaskBody(overrides) });

  beforeAll(async () => {
    configDir = configDirWithScopes({});
    fs.writeFileSync(path.join(configDir, 'policies', 'no-blocked-audience.cedar'), BLOCKED_AUDIENCE_POLICY);
    t = await startTestBroker({ env: { GRANTLINE_CONFIG_DIR: configDir } });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  test('when a task declares no audiences, then it takes the audiences its scopes name in the catalogue', async () => {
    const res = await open({ scopes: ['db:demo:read', 'kv:demo/api-key'] });
    expect(res.status).toBe(201);
    expect(res.body.audiences).toEqual(['orders-api', 'orders-db']);
    const shown = await t.call('GET', `/v1/tasks/${res.body.id}`, { as: ORCHESTRATOR });
    expect(shown.body.audiences).toEqual(['orders-api', 'orders-db']);
  });

  test('when a task declares its audiences, then they are kept (sorted, without duplicates)', async () => {
    const res = await open({ audiences: ['reports-api', 'orders-api', 'reports-api'] });
    expect(res.status).toBe(201);
    expect(res.body.audiences).toEqual(['orders-api', 'reports-api']);
  });

  test.each([
    ['an empty list', []],
    ['an empty audience', ['']],
    ['a non-string', [42]],
    ['a token-shaped audience', [`eyJ${'a'.repeat(20)}.eyJ${'b'.repeat(20)}.${'c'.repeat(20)}`]],
    ['too many', Array.from({ length: 21 }, (_, i) => `api-${i}`)],
  ])('when audiences is %s, then open is 400 naming the field', async (_what, audiences) => {
    const res = await open({ audiences });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(JSON.stringify(res.body.fields)).toContain('audiences');
  });

  test('when a grant asks for an audience the task does not declare, then 400 invalid_target and nothing is issued', async () => {
    const taskId = (await open({ audiences: ['orders-api'] })).body.id;
    const res = await requestGrant(t, taskId, ['kv:demo/api-key'], { audience: 'billing-api' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    expect(await grantRows(t, taskId)).toEqual([]);
    const ok = await grantOk(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api' });
    expect(decodeJwt(ok.access_token).aud).toBe('orders-api');
  });

  test('when policy forbids an audience, then the grant is 403 naming that policy', async () => {
    const taskId = (await open({ audiences: ['orders-api', 'blocked-api'] })).body.id;
    const res = await requestGrant(t, taskId, ['kv:demo/api-key'], { audience: 'blocked-api' });
    expect(res.status).toBe(403);
    expect(res.body.policy_ids).toEqual(['no-grants-for-the-blocked-api']);
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api' })).status).toBe(201);
  });

  test("when a delegated grant is redeemed, then it keeps its parent's audience and cannot ask another", async () => {
    const taskId = (await open({ agents: [AGENT_A], audiences: ['orders-api', 'reports-api'] })).body.id;
    const parent = await grantOk(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api' });
    const offerToB = async () =>
      (
        await t.call('POST', `/v1/grants/${parent.grant_id}/delegations`, {
          as: AGENT_A,
          body: { to: AGENT_B, scopes: ['kv:demo/api-key'], ttl: 60, budget: 1 },
        })
      ).body.delegation_token as string;
    const redeem = async (token: string, extra: Record<string, string> = {}) =>
      t.call('POST', '/oauth2/token', {
        as: AGENT_B,
        form: {
          grant_type: EXCHANGE,
          subject_token: token,
          subject_token_type: JWT,
          actor_token: await t.svid(AGENT_B),
          actor_token_type: JWT,
          ...extra,
        },
      });
    const elsewhere = await redeem(await offerToB(), { audience: 'reports-api' });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error).toBe('invalid_target');
    const child = await redeem(await offerToB());
    expect(child.status).toBe(200);
    expect(decodeJwt(child.body.access_token).aud).toBe('orders-api');
  });
});
