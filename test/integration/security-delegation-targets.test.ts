import { randomUUID } from 'node:crypto';
import {
  AGENT_A,
  AGENT_B,
  AGENT_C,
  ORCHESTRATOR,
  openTaskBody,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { type FederatedConfig, federatedConfig, PARTNER_DOMAIN } from '../helpers/federation';
import { auditEvents, grantOk, grantRows } from '../helpers/scenario';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const HELPERS = 'spiffe://dev.grantline.local/agent/helpers/*';
const HELPER = 'spiffe://dev.grantline.local/agent/helpers/indexer';
const PARTNER_LISTED = `spiffe://${PARTNER_DOMAIN}/agent/listed`;
const PARTNER_UNLISTED = `spiffe://${PARTNER_DOMAIN}/agent/unlisted`;

/**
 * Issue 11 §6: a delegation offer may only name a workload the task lists (as an agent, or through an
 * explicit delegate declared at open); a federated workload the task never listed cannot redeem.
 */
describe('delegation targets are limited to what the task declares', () => {
  let t: TestBroker;
  let fed: FederatedConfig;
  let taskId: string;
  let parentGrantId: string;

  const offer = (to: string) =>
    t.call('POST', `/v1/grants/${parentGrantId}/delegations`, {
      as: AGENT_A,
      body: { to, scopes: ['kv:demo/api-key'], ttl: 60, budget: 1 },
    });
  const redeemAs = async (svid: string, delegationToken: string) =>
    t.call('POST', '/oauth2/token', {
      headers: { authorization: `Bearer ${svid}` },
      form: {
        grant_type: EXCHANGE,
        subject_token: delegationToken,
        subject_token_type: JWT,
        actor_token: svid,
        actor_token_type: JWT,
      },
    });
  const openWith = (delegates: unknown) =>
    t.call('POST', '/v1/tasks', { as: ORCHESTRATOR, body: openTaskBody({ delegates }) });

  beforeAll(async () => {
    fed = await federatedConfig();
    t = await startTestBroker({ env: { GRANTLINE_CONFIG_DIR: fed.configDir } });
    const opened = await t.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({
        agents: [AGENT_A, AGENT_B],
        delegates: [HELPERS, PARTNER_LISTED],
        scopes: ['kv:demo/api-key'],
      }),
    });
    expect(opened.status).toBe(201);
    taskId = opened.body.id;
    parentGrantId = (await grantOk(t, taskId, ['kv:demo/api-key'])).grant_id;
  });
  afterAll(async () => {
    await t?.stop();
    fed?.remove();
  });

  test('when a task declares delegates, then the task view shows them', async () => {
    const shown = await t.call('GET', `/v1/tasks/${taskId}`, { as: ORCHESTRATOR });
    expect(shown.body.delegates).toEqual([HELPERS, PARTNER_LISTED].sort());
    const plain = await t.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({ delegates: undefined }),
    });
    expect(plain.body.delegates).toEqual([]);
  });

  test.each([
    ['a wildcard over a whole trust domain', 'spiffe://dev.grantline.local/*'],
    ['a wildcard in the middle', 'spiffe://dev.grantline.local/agent/*/x'],
    ['a wildcard over a federated trust domain', `spiffe://${PARTNER_DOMAIN}/agent/*`],
    ['not a SPIFFE ID', 'https://dev.grantline.local/agent/x'],
    ['a malformed SPIFFE ID', 'spiffe://dev.grantline.local/agent/../x'],
  ])('when a delegate is %s, then open is 400 naming the field', async (_what, pattern) => {
    const res = await openWith([pattern]);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(JSON.stringify(res.body)).toContain('delegates');
  });

  test('when the offer names a listed agent or a declared delegate, then it is offered and redeemed', async () => {
    expect((await offer(AGENT_B)).status).toBe(201);
    const toHelper = await offer(HELPER);
    expect(toHelper.status).toBe(201);
    const redeemed = await redeemAs(await t.svid(HELPER), toHelper.body.delegation_token);
    expect(redeemed.status).toBe(200);
    const toPartner = await offer(PARTNER_LISTED);
    expect(toPartner.status).toBe(201);
    const partnerRedeemed = await redeemAs(await fed.svid(PARTNER_LISTED), toPartner.body.delegation_token);
    expect(partnerRedeemed.status).toBe(200);
  });

  test('when the offer names a workload the task never lists, then 403, audited, and no offer exists', async () => {
    for (const to of [AGENT_C, PARTNER_UNLISTED, 'spiffe://dev.grantline.local/agent/helpers']) {
      const res = await offer(to);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('access_denied');
      expect(res.body.error_description).toContain('does not list');
      const offers = await t.db.db
        .selectFrom('delegation_offers')
        .select('id')
        .where('to_holder', '=', to)
        .execute();
      expect(offers).toEqual([]);
    }
    const refused = (await auditEvents(t, taskId)).filter(
      (e) => e.type === 'delegation.refused' && (e.payload as { to?: string }).to === PARTNER_UNLISTED,
    );
    expect(refused).toHaveLength(1);
  });

  test('when a federated workload the task never listed redeems an offer bound to it, then 403 and nothing is issued', async () => {
    // An offer that exists for an unlisted workload (e.g. made before the rule): redemption checks again.
    const offerId = randomUUID();
    const expiresAt = new Date(Date.now() + 60_000);
    await t.db.db
      .insertInto('delegation_offers')
      .values({
        id: offerId,
        task_id: taskId,
        parent_grant_id: parentGrantId,
        from_holder: AGENT_A,
        to_holder: PARTNER_UNLISTED,
        scopes: ['kv:demo/api-key'],
        ttl_seconds: 60,
        budget: 1,
        may_redelegate: false,
        status: 'pending',
        policy_ids: ['agent-delegate-grant'],
        policy_version: 'test',
        expires_at: expiresAt,
      })
      .execute();
    const token = await t.broker.tokens.mintDelegationToken({
      offerId,
      parentGrantId,
      taskId,
      from: AGENT_A,
      to: PARTNER_UNLISTED,
      scopes: ['kv:demo/api-key'],
      expiresAt,
    });
    const before = (await grantRows(t, taskId)).length;
    const res = await redeemAs(await fed.svid(PARTNER_UNLISTED), token);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect((await grantRows(t, taskId)).length).toBe(before);
  });
});
