import { decodeJwt } from 'jose';
import {
  AccessDeniedError,
  BrokerError,
  BrokerUnreachableError,
  ConflictError,
  type DynamicSecret,
  GrantCleanupError,
  InvalidScopeError,
  InvalidTargetError,
  type KvSecret,
  NotFoundError,
  QuotaExceededError,
  type TokenSecret,
} from '../src';
import {
  AGENT_A,
  AGENT_B,
  AUDITOR,
  type LiveBroker,
  ORCHESTRATOR,
  RESOURCE,
  STRANGER,
  startLiveBroker,
} from './support/live-broker';

const APPROVER = 'spiffe://dev.grantline.local/approver/alice-desk';

describe('@grantline/sdk against a live broker: orchestrator and agent', () => {
  let b: LiveBroker;
  beforeAll(async () => {
    b = await startLiveBroker();
  });
  afterAll(async () => {
    await b?.stop();
  });

  test('when an orchestrator opens, shows, lists, approves and closes a task, then each call returns the typed view and the receipt is complete', async () => {
    const orch = b.as(ORCHESTRATOR);
    const taskId = await b.openTask({ agents: [AGENT_A], limits: { budget: 20 } });
    const task = await orch.tasks.show(taskId);
    expect(task).toMatchObject({ id: taskId, status: 'open', owner: ORCHESTRATOR, agents: [AGENT_A] });
    expect(task.limits.budget).toBe(20);
    expect((await orch.tasks.list({ status: 'open' })).map((t) => t.id)).toContain(taskId);
    // Consent to run a task is not consent to use a privileged tool: an approver workload records it.
    const approval = await b.as(APPROVER).tasks.approve(taskId, {
      scope: 'tool:demo:deploy',
      approver: 'alice@example.com',
      ttl: '10m',
    });
    expect(approval).toMatchObject({
      task_id: taskId,
      scope: 'tool:demo:deploy',
      approver: 'alice@example.com',
    });
    const grant = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders' });
    const closed = await orch.tasks.close(taskId, 'done');
    expect(closed.status).toBe('closing');
    expect(closed.grants.map((g) => g.grant_id)).toEqual([grant.grant_id]);
    // Close is idempotent: a second close returns the receipt and changes nothing.
    expect((await orch.tasks.close(taskId)).task_id).toBe(taskId);
    await b.t.broker.runBackgroundOnce();
    const receipt = await orch.tasks.receipt(taskId);
    expect(receipt).toMatchObject({ task_id: taskId, status: 'closed', complete: true });
    const lineage = await b.as(AUDITOR).tasks.lineage(taskId);
    expect(lineage.grants.map((g) => g.grant_id)).toEqual([grant.grant_id]);
  });

  test('when an agent requests a grant, then each secret is typed by its kind', async () => {
    const taskId = await b.openTask();
    const grant = await b.as(AGENT_A).grants.request(taskId, {
      scopes: ['db:demo:read', 'kv:demo/api-key'],
      audience: 'orders-db',
      ttl: 120,
      context: { tool: 'sql', intent: 'count orders' },
    });
    expect(grant).toMatchObject({
      task_id: taskId,
      token_type: 'Bearer',
      scope: 'db:demo:read kv:demo/api-key',
    });
    const dynamic = grant.secrets.find((s): s is DynamicSecret => s.kind === 'dynamic')!;
    expect(dynamic.data.username).toEqual(expect.any(String));
    expect(dynamic.lease_id).toMatch(/^database\/creds\//);
    const kv = grant.secrets.find((s): s is KvSecret => s.kind === 'kv')!;
    expect(kv.data.api_key).toMatch(/^demo-/);
    expect(kv.lease_id).toBeNull();
    await b.as(APPROVER).tasks.approve(taskId, { scope: 'tool:demo:deploy', approver: 'bob@example.com' });
    const deploy = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['tool:demo:deploy'], audience: 'deploy' });
    const token = deploy.secrets[0] as TokenSecret;
    expect(token.kind).toBe('token');
    expect(token.data).toEqual({ token: expect.any(String), accessor: expect.any(String) });
  });

  test('when an agent delegates and the sub-agent redeems with its own SVID, then the chain shows both and revoking the parent kills the child', async () => {
    const taskId = await b.openTask({ agents: [AGENT_A, AGENT_B] });
    const a = b.as(AGENT_A);
    const parent = await a.grants.request(taskId, {
      scopes: ['kv:demo/api-key', 'db:demo:read'],
      audience: 'orders',
    });
    const offer = await a.grants.delegate(parent.grant_id, {
      to: AGENT_B,
      scopes: ['kv:demo/api-key'],
      ttl: 60,
      budget: 2,
      may_redelegate: false,
    });
    expect(offer).toMatchObject({ to: AGENT_B, scopes: ['kv:demo/api-key'], may_redelegate: false });
    // The offer is bound to B: A redeeming it with A's own SVID is refused.
    await expect(a.grants.redeem(offer.delegation_token)).rejects.toBeInstanceOf(BrokerError);
    const child = await b.as(AGENT_B).grants.redeem(offer.delegation_token);
    expect(child.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(child.scope).toBe('kv:demo/api-key');
    const lineage = await b.as(AUDITOR).grants.lineage(child.grant_id);
    expect(lineage.path.map((n) => n.holder)).toEqual([AGENT_A, AGENT_B]);
    const revoked = await a.grants.revoke(parent.grant_id, 'done');
    expect(revoked.revoked.sort()).toEqual([parent.grant_id, child.grant_id].sort());
    const rs = b.as(RESOURCE);
    expect(await rs.introspect(child.access_token)).toEqual({ active: false });
  });

  test('when a sub-agent asks for more scopes than offered, then InvalidScopeError names the widening', async () => {
    const taskId = await b.openTask({ agents: [AGENT_A, AGENT_B] });
    const parent = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders' });
    const offer = await b
      .as(AGENT_A)
      .grants.delegate(parent.grant_id, { to: AGENT_B, scopes: ['kv:demo/api-key'] });
    const err = await b
      .as(AGENT_B)
      .grants.redeem(offer.delegation_token, { scopes: ['db:demo:read'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidScopeError);
    expect(err).toMatchObject({
      code: 'invalid_scope',
      status: 400,
      details: { widening: ['db:demo:read'] },
    });
  });

  test('when withGrant work succeeds or throws, then the grant is revoked either way', async () => {
    const taskId = await b.openTask();
    const a = b.as(AGENT_A);
    const rs = b.as(RESOURCE);
    let token = '';
    const out = await a.withGrant(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders' }, async (g) => {
      token = g.access_token;
      expect((await rs.introspect(token)).active).toBe(true);
      return 42;
    });
    expect(out).toBe(42);
    expect(await rs.introspect(token)).toEqual({ active: false });

    const boom = new Error('tool crashed');
    await expect(
      a.withGrant(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders' }, async (g) => {
        token = g.access_token;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await rs.introspect(token)).toEqual({ active: false });
  });

  test('when the work fails and the revocation fails too, then GrantCleanupError carries both', async () => {
    const taskId = await b.openTask();
    const a = b.as(AGENT_A);
    const err = await a
      .withGrant(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders' }, async (g) => {
        // Someone else makes the revocation impossible to confirm: the grant id no longer resolves.
        g.grant_id = '00000000-0000-4000-8000-000000000000';
        throw new Error('work failed');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantCleanupError);
    const [work, revoke] = (err as GrantCleanupError).errors;
    expect((work as Error).message).toBe('work failed');
    expect(revoke).toBeInstanceOf(NotFoundError);
  });

  test('when the broker refuses, then the error class, code, status and details are the broker’s', async () => {
    const taskId = await b.openTask({ limits: { max_grants: 1 } });
    const stranger = await b
      .as(STRANGER)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'x' })
      .catch((e: unknown) => e);
    expect(stranger).toBeInstanceOf(AccessDeniedError);
    expect(stranger).toMatchObject({ code: 'access_denied', status: 403 });
    await b.as(AGENT_A).grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'x' });
    const quota = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'x' })
      .catch((e: unknown) => e);
    expect(quota).toBeInstanceOf(QuotaExceededError);
    expect(quota).toMatchObject({ status: 429, details: { limit: 'max_grants' } });
    await expect(
      b.as(ORCHESTRATOR).tasks.show('5b0e6a52-0000-4000-8000-000000000000'),
    ).rejects.toBeInstanceOf(NotFoundError);
    await b.as(ORCHESTRATOR).tasks.close(taskId);
    const closed = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'x' })
      .catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(ConflictError);
    expect(closed).toMatchObject({ details: { task_status: 'closing' } });
  });

  test('when a caller names RFC 8707 resources, then the token is for them; one the task did not declare is InvalidTargetError', async () => {
    const taskId = await b.openTask();
    const one = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], resource: 'https://orders.example/mcp' });
    expect(decodeJwt(one.access_token).aud).toBe('https://orders.example/mcp');
    const two = await b.as(AGENT_A).grants.request(taskId, {
      scopes: ['kv:demo/api-key'],
      resource: ['https://orders.example/mcp', 'https://orders.example/api'],
    });
    expect(decodeJwt(two.access_token).aud).toEqual([
      'https://orders.example/mcp',
      'https://orders.example/api',
    ]);
    const err = await b
      .as(AGENT_A)
      .grants.request(taskId, { scopes: ['kv:demo/api-key'], resource: 'https://undeclared.example/mcp' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTargetError);
  });

  test('when the broker is not there, then a GET is retried and fails as BrokerUnreachableError', async () => {
    const nowhere = b.as(ORCHESTRATOR, { url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await expect(nowhere.tasks.list()).rejects.toBeInstanceOf(BrokerUnreachableError);
  });
});
