import { decodeJwt } from 'jose';
import {
  AGENT_A,
  AGENT_B,
  AGENT_C,
  AUDITOR,
  eventually,
  ORCHESTRATOR,
  openTaskBody,
  RESOURCE,
  STRANGER,
  startTestBroker,
  type TestBroker,
  tryLogin,
} from '../helpers/broker';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

describe('delegation hops and lineage', () => {
  let t: TestBroker;
  let taskId: string;
  let grantA: any;

  const offer = (from: string, grantId: string, body: Record<string, unknown>) =>
    t.call('POST', `/v1/grants/${grantId}/delegations`, { as: from, body });
  const redeem = async (as: string, delegationToken: string, extra: Record<string, string> = {}) =>
    t.call('POST', '/oauth2/token', {
      as,
      form: {
        grant_type: EXCHANGE,
        subject_token: delegationToken,
        subject_token_type: JWT,
        actor_token: await t.svid(as),
        actor_token_type: JWT,
        ...extra,
      },
    });
  const introspect = (token: string) =>
    t.call('POST', '/oauth2/introspect', { as: RESOURCE, form: { token } });
  const task = async () => (await t.call('GET', `/v1/tasks/${taskId}`, { as: ORCHESTRATOR })).body;

  beforeAll(async () => {
    t = await startTestBroker();
    const opened = await t.call('POST', '/v1/tasks', {
      as: ORCHESTRATOR,
      body: openTaskBody({
        scopes: ['db:demo:read', 'kv:demo/api-key'],
        limits: { max_grants: 100, max_active: 50, max_depth: 2, max_fanout: 5, budget: 20 },
      }),
    });
    taskId = opened.body.id;
    grantA = (
      await t.call('POST', `/v1/tasks/${taskId}/grants`, {
        as: AGENT_A,
        body: { scopes: ['db:demo:read', 'kv:demo/api-key'], audience: 'orders-db', ttl: 600 },
      })
    ).body;
  });
  afterAll(async () => {
    await t?.stop();
  });

  let grantB: any;
  let grantC: any;

  test('when A delegates to B and B to C, narrowing at each hop, then each hop is a child with the nested act chain', async () => {
    const toB = await offer(AGENT_A, grantA.grant_id, {
      to: AGENT_B,
      scopes: ['db:demo:read', 'kv:demo/api-key'],
      ttl: 300,
      budget: 6,
      may_redelegate: true,
    });
    expect(toB.status).toBe(201);
    expect(decodeJwt(toB.body.delegation_token)).toMatchObject({ may_act: { sub: AGENT_B }, sub: AGENT_A });
    const redeemedB = await redeem(AGENT_B, toB.body.delegation_token, {
      scope: 'db:demo:read kv:demo/api-key',
    });
    expect(redeemedB.status).toBe(200);
    grantB = redeemedB.body;
    expect(grantB.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');

    const toC = await offer(AGENT_B, grantB.grant_id, {
      to: AGENT_C,
      scopes: ['db:demo:read'],
      ttl: 120,
      budget: 2,
    });
    expect(toC.status).toBe(201);
    const redeemedC = await redeem(AGENT_C, toC.body.delegation_token);
    expect(redeemedC.status).toBe(200);
    grantC = redeemedC.body;
    expect(grantC.scope).toBe('db:demo:read');
    expect((await tryLogin(t, grantC.secrets[0].data)).ok).toBe(true);

    const claims = decodeJwt(grantC.access_token);
    expect(claims.act).toEqual({ sub: AGENT_C, act: { sub: AGENT_B, act: { sub: AGENT_A } } });
    const seen = await introspect(grantC.access_token);
    expect(seen.body).toMatchObject({
      active: true,
      client_id: AGENT_C,
      act: { sub: AGENT_C, act: { sub: AGENT_B, act: { sub: AGENT_A } } },
    });
  });

  test('when a hop tries to widen, then it is refused at offer and at redemption', async () => {
    const wideOffer = await offer(AGENT_B, grantB.grant_id, {
      to: AGENT_C,
      scopes: ['db:demo:read', 'tool:demo:deploy'],
      ttl: 60,
    });
    expect(wideOffer.status).toBe(400);
    expect(wideOffer.body.error).toBe('invalid_scope');
    const narrow = await offer(AGENT_A, grantA.grant_id, {
      to: AGENT_B,
      scopes: ['db:demo:read'],
      ttl: 60,
      budget: 1,
    });
    const wideRedeem = await redeem(AGENT_B, narrow.body.delegation_token, {
      scope: 'db:demo:read kv:demo/api-key',
    });
    expect(wideRedeem.status).toBe(400);
    expect(wideRedeem.body.error).toBe('invalid_scope');
    const badAudience = await redeem(AGENT_B, narrow.body.delegation_token, { audience: 'elsewhere' });
    expect(badAudience.body.error).toBe('invalid_target');
  });

  test('when C (may_redelegate false) or a hop beyond max_depth delegates, then it is refused', async () => {
    const fromC = await offer(AGENT_C, grantC.grant_id, { to: STRANGER, scopes: ['db:demo:read'], ttl: 30 });
    expect(fromC.status).toBe(403);
  });

  test('when a hop would pass max_depth, then the offer is refused with 429 max_depth', async () => {
    const o = await offer(AGENT_B, grantB.grant_id, {
      to: AGENT_C,
      scopes: ['db:demo:read'],
      ttl: 60,
      budget: 1,
      may_redelegate: true,
    });
    const deep = (await redeem(AGENT_C, o.body.delegation_token)).body;
    expect(deep.grant_id).toBeDefined();
    const beyond = await offer(AGENT_C, deep.grant_id, { to: STRANGER, scopes: ['db:demo:read'], ttl: 30 });
    expect(beyond.status).toBe(429);
    expect(beyond.body.limit).toBe('max_depth');
  });

  test('when the wrong workload redeems, then it is refused with invalid_request and audited', async () => {
    const o = await offer(AGENT_A, grantA.grant_id, {
      to: AGENT_B,
      scopes: ['kv:demo/api-key'],
      ttl: 60,
      budget: 1,
    });
    const wrong = await redeem(STRANGER, o.body.delegation_token);
    expect(wrong.body).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('bound to another workload'),
    });
    expect(wrong.status).toBe(400);
    const events = await t.call('GET', `/v1/audit/events?task=${taskId}&limit=1000`, { as: AUDITOR });
    expect(
      events.body.events.some((e: any) => e.type === 'delegation.refused' && e.principal === STRANGER),
    ).toBe(true);
    const bogusActor = await t.call('POST', '/oauth2/token', {
      as: AGENT_B,
      form: {
        grant_type: EXCHANGE,
        subject_token: o.body.delegation_token,
        subject_token_type: JWT,
        actor_token: 'not-a-jwt',
        actor_token_type: JWT,
      },
    });
    expect(bogusActor.body.error).toBe('invalid_request');
  });

  test('when 20 redemptions of one offer race, then exactly one grant is issued', async () => {
    const before = (await task()).counters.grants_issued;
    const o = await offer(AGENT_A, grantA.grant_id, {
      to: AGENT_B,
      scopes: ['kv:demo/api-key'],
      ttl: 60,
      budget: 1,
    });
    expect(o.status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => redeem(AGENT_B, o.body.delegation_token)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_request')).toHaveLength(19);
    expect((await task()).counters.grants_issued).toBe(before + 1);
  });

  test('when the fan-out limit is reached, then the next offer is refused with 429 max_fanout', async () => {
    let lineage = (await t.call('GET', `/v1/grants/${grantA.grant_id}/lineage`, { as: AUDITOR })).body;
    while (lineage.subtree.children_count < 5) {
      expect(
        (await offer(AGENT_A, grantA.grant_id, { to: AGENT_B, scopes: ['kv:demo/api-key'], ttl: 60 })).status,
      ).toBe(201);
      lineage = (await t.call('GET', `/v1/grants/${grantA.grant_id}/lineage`, { as: AUDITOR })).body;
    }
    const over = await offer(AGENT_A, grantA.grant_id, { to: AGENT_B, scopes: ['kv:demo/api-key'], ttl: 60 });
    expect(over.status).toBe(429);
    expect(over.body.limit).toBe('max_fanout');
  });

  test('when B is revoked, then B and C die everywhere, their budget returns, and A stays active', async () => {
    const spentBefore = (await task()).counters.budget_spent;
    const revoked = await t.call('POST', `/v1/grants/${grantB.grant_id}/revoke`, {
      as: AGENT_A,
      body: { reason: 'sub-task done' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toEqual(expect.arrayContaining([grantB.grant_id, grantC.grant_id]));
    expect((await introspect(grantB.access_token)).body).toEqual({ active: false });
    expect((await introspect(grantC.access_token)).body).toEqual({ active: false });
    expect((await introspect(grantA.access_token)).body.active).toBe(true);
    expect(await eventually(async () => !(await tryLogin(t, grantC.secrets[0].data)).ok)).toBe(true);
    expect(
      await eventually(
        async () => !(await tryLogin(t, grantB.secrets.find((s: any) => s.kind === 'dynamic').data)).ok,
      ),
    ).toBe(true);
    expect((await tryLogin(t, grantA.secrets.find((s: any) => s.kind === 'dynamic').data)).ok).toBe(true);
    // B reserved 6: its own scopes cost 2, C and the deep grant each spent 1 of the 2 and 1 B gave them
    // (C's unspent 1 came back to B first), so 6 - 4 = 2 return to the task.
    expect((await task()).counters.budget_spent).toBe(spentBefore - 2);
    const feed = await t.call('GET', '/v1/revocations?after=0', { as: RESOURCE });
    expect(feed.body.revocations.map((r: any) => r.jti)).toEqual(
      expect.arrayContaining([grantB.grant_id, grantC.grant_id]),
    );
  });

  test('when an auditor asks for the lineage of C, then the full path with every hop constraint and decision is shown', async () => {
    const lineage = await t.call('GET', `/v1/grants/${grantC.grant_id}/lineage`, { as: AUDITOR });
    expect(lineage.status).toBe(200);
    expect(lineage.body.path.map((n: any) => n.holder)).toEqual([AGENT_A, AGENT_B, AGENT_C]);
    const [a, b, c] = lineage.body.path;
    expect(a).toMatchObject({ depth: 0, scopes: ['db:demo:read', 'kv:demo/api-key'], status: 'active' });
    expect(b).toMatchObject({
      depth: 1,
      status: 'revoked',
      budget: { reserved: 6 },
      constraints: expect.objectContaining({ budget: 6, may_redelegate: true }),
    });
    expect(c).toMatchObject({
      depth: 2,
      scopes: ['db:demo:read'],
      status: 'revoked',
      may_redelegate: false,
      constraints: expect.objectContaining({ ttl: 120, budget: 2 }),
    });
    for (const node of lineage.body.path) {
      expect(node.policy_ids.length).toBeGreaterThan(0);
      expect(node.policy_version).toMatch(/^sha256:/);
    }
    expect(c.leases.every((l: any) => ['revoked', 'expired'].includes(l.state) || l.state === 'active')).toBe(
      true,
    );
    // Two levels down from A: the subtree's recursive step reaches C through B.
    const ofA = (await t.call('GET', `/v1/grants/${a.grant_id}/lineage`, { as: AUDITOR })).body;
    const viaB = ofA.subtree.children.find((n: any) => n.grant_id === b.grant_id);
    expect(viaB.children.map((n: any) => n.grant_id)).toContain(c.grant_id);
    const tree = await t.call('GET', `/v1/tasks/${taskId}/lineage`, { as: AUDITOR });
    expect(tree.body.grants[0].children.length).toBeGreaterThan(0);
    expect((await t.call('GET', `/v1/tasks/${taskId}/lineage`, { as: AGENT_A })).status).toBe(404);
  });

  test('when the task closes, then every grant of every depth is dead', async () => {
    await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
    expect((await introspect(grantA.access_token)).body).toEqual({ active: false });
    expect(
      await eventually(
        async () => !(await tryLogin(t, grantA.secrets.find((s: any) => s.kind === 'dynamic').data)).ok,
      ),
    ).toBe(true);
  });
});
