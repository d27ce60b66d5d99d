import fs from 'node:fs';
import path from 'node:path';
import { InvalidTargetError } from '@grantline/sdk';
import { decodeJwt } from 'jose';
import { AGENT_A, AGENT_B, startTestBroker, type TestBroker } from '../helpers/broker';
import { configDirWithScopes, introspect, openTask, rawCall } from '../helpers/scenario';

const ORDERS = 'https://orders.example/mcp';
const BILLING = 'https://billing.example/mcp';
const BLOCKED = 'https://blocked.example/mcp';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

// Policy decides each scope at each audience: a forbidden resource cannot ride along with an allowed one.
const BLOCKED_RESOURCE_POLICY = `@id("no-grants-for-the-blocked-resource")
forbid (principal, action in [Action::"RequestGrant", Action::"RedeemGrant"], resource is Scope)
when { context has audience && context.audience == "${BLOCKED}" };
`;

/**
 * RFC 8707 resource indicators (issue 15, MCP authorization): a grant names the resources its token is
 * for, each declared by the task, and they become its `aud` (an array for several); token exchange may
 * narrow them; every answer of these routes names the issuer (RFC 9207).
 */
describe('resource indicators', () => {
  let t: TestBroker;
  let configDir: string;
  let taskId: string;

  const ask = (body: Record<string, unknown>, as = AGENT_A) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, { as, body: { scopes: ['kv:demo/api-key'], ...body } });

  beforeAll(async () => {
    configDir = configDirWithScopes({});
    fs.writeFileSync(path.join(configDir, 'policies', 'no-blocked-resource.cedar'), BLOCKED_RESOURCE_POLICY);
    t = await startTestBroker({ env: { GRANTLINE_CONFIG_DIR: configDir } });
    taskId = await openTask(t, { audiences: [ORDERS, BILLING, BLOCKED, 'orders-api'] });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  test('when a grant names one resource, then the token is for it alone and the answer names the issuer', async () => {
    const res = await ask({ resource: [ORDERS] });
    expect(res.status).toBe(201);
    expect(res.body.iss).toBe(t.broker.url);
    expect(decodeJwt(res.body.access_token).aud).toBe(ORDERS);
    expect((await introspect(t, res.body.access_token)).body).toMatchObject({ active: true, aud: ORDERS });
  });

  test('when a grant names several resources, then aud is an array of them, in the token and in introspection', async () => {
    const res = await ask({ resource: [ORDERS, BILLING, ORDERS] });
    expect(res.status).toBe(201);
    expect(decodeJwt(res.body.access_token).aud).toEqual([ORDERS, BILLING]);
    expect((await introspect(t, res.body.access_token)).body.aud).toEqual([ORDERS, BILLING]);
    const row = await t.db.db
      .selectFrom('grants')
      .select('audiences')
      .where('id', '=', res.body.grant_id)
      .executeTakeFirstOrThrow();
    expect(row.audiences).toEqual([ORDERS, BILLING]);
  });

  test.each([
    ['a resource the task did not declare', { resource: [ORDERS, 'https://elsewhere.example/mcp'] }],
    ['a resource that is not an absolute URI', { resource: ['orders-api'] }],
    ['a resource with a fragment', { resource: [`${ORDERS}#tools`] }],
  ])(
    'when a grant names %s, then it is 400 invalid_target with iss, and nothing is issued',
    async (_, body) => {
      const before = await t.db.db.selectFrom('grants').select('id').execute();
      const res = await ask(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_target', iss: t.broker.url });
      expect(await t.db.db.selectFrom('grants').select('id').execute()).toHaveLength(before.length);
    },
  );

  test.each([
    ['both audience and resource', { audience: 'orders-api', resource: [ORDERS] }],
    ['neither audience nor resource', {}],
    ['an empty resource list', { resource: [] }],
    ['a resource that is not a list', { resource: ORDERS }],
  ])('when a grant request has %s, then it is 400 invalid_request', async (_, body) => {
    const res = await ask(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', iss: t.broker.url });
  });

  test('when one of the resources is forbidden by policy, then the whole grant is refused (403)', async () => {
    expect((await ask({ resource: [ORDERS, BLOCKED] })).status).toBe(403);
    expect((await ask({ resource: [ORDERS] })).status).toBe(201);
  });

  test('when a token exchange names resources within the parent\u2019s, then the child carries just those', async () => {
    const parent = await t.client(AGENT_A).grants.request(taskId, {
      scopes: ['kv:demo/api-key'],
      resource: [ORDERS, BILLING],
    });
    const agentB = t.client(AGENT_B);
    const offer = () =>
      t
        .client(AGENT_A)
        .grants.delegate(parent.grant_id, { to: AGENT_B, scopes: ['kv:demo/api-key'], budget: 1 });
    const narrowed = await agentB.grants.redeem((await offer()).delegation_token, { resource: [BILLING] });
    expect(narrowed.iss).toBe(t.broker.url);
    expect(decodeJwt(narrowed.access_token).aud).toBe(BILLING);
    const kept = await agentB.grants.redeem((await offer()).delegation_token);
    expect(decodeJwt(kept.access_token).aud).toEqual([ORDERS, BILLING]);
    const widened = await agentB.grants
      .redeem((await offer()).delegation_token, { resource: [ORDERS, 'orders-api'] })
      .catch((e: unknown) => e);
    expect(widened).toBeInstanceOf(InvalidTargetError);
  });

  test('when the form repeats resource (RFC 8693 §2.1), then each value counts and each is checked', async () => {
    const parent = await t.client(AGENT_A).grants.request(taskId, {
      scopes: ['kv:demo/api-key'],
      resource: [ORDERS, BILLING],
    });
    const exchange = async (resources: string[]) => {
      const offer = await t.client(AGENT_A).grants.delegate(parent.grant_id, {
        to: AGENT_B,
        scopes: ['kv:demo/api-key'],
        budget: 1,
      });
      const form = new URLSearchParams({
        grant_type: EXCHANGE,
        subject_token: offer.delegation_token,
        subject_token_type: JWT,
        actor_token: await t.svid(AGENT_B),
        actor_token_type: JWT,
      });
      for (const r of resources) form.append('resource', r);
      return rawCall(t, 'POST', '/oauth2/token', {
        as: AGENT_B,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    };
    const both = await exchange([BILLING, ORDERS]);
    expect(both.status).toBe(200);
    expect(decodeJwt((both.body as { access_token: string }).access_token).aud).toEqual([BILLING, ORDERS]);
    const outside = await exchange([ORDERS, BLOCKED]);
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ error: 'invalid_target', iss: t.broker.url });
  });

  test('when a client reads the RFC 8414 metadata, then it says answers carry iss (RFC 9207)', async () => {
    const res = await fetch(`${t.broker.url}/.well-known/oauth-authorization-server`);
    expect(await res.json()).toMatchObject({
      issuer: t.broker.url,
      authorization_response_iss_parameter_supported: true,
    });
  });
});

describe('RFC 8414 metadata of an issuer with a path', () => {
  let t: TestBroker;
  afterAll(async () => {
    await t?.stop();
  });

  test('when the issuer has a path, then the metadata is also at the path-inserted well-known URL', async () => {
    t = await startTestBroker({ env: { GRANTLINE_ISSUER: 'http://127.0.0.1/grantline' } });
    for (const p of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/grantline',
    ]) {
      const res = await fetch(`${t.broker.url}${p}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { issuer: string }).issuer).toBe('http://127.0.0.1/grantline');
    }
    expect((await fetch(`${t.broker.url}/.well-known/oauth-authorization-server/other`)).status).toBe(404);
  });
});
