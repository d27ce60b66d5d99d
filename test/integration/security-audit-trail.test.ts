import { sql } from 'kysely';
import {
  AGENT_A,
  AUDITOR,
  eventually,
  ORCHESTRATOR,
  STRANGER,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { grantOk, openTask, requestGrant } from '../helpers/scenario';

interface Event {
  leaf_index: number;
  at: string;
  type: string;
  task_id: string | null;
  grant_id: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
}

/**
 * DESIGN "Rules": every decision, allow or deny, is an audit event with the policy ids that decided it;
 * the log is an RFC 9162 transparency log and `audit verify` recomputes it. Only auditors read it.
 */
describe('the audit trail of a task', () => {
  let t: TestBroker;
  let taskId: string;
  let grantId: string;
  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t);
    expect((await requestGrant(t, taskId, ['kv:demo/api-key'], { as: STRANGER })).status).toBe(403);
    expect((await requestGrant(t, taskId, ['tool:demo:deploy'])).status).toBe(403);
    grantId = (await grantOk(t, taskId, ['db:demo:read'])).grant_id;
    expect(
      (
        await t.call('POST', `/v1/tasks/${taskId}/close`, {
          as: ORCHESTRATOR,
          body: { reason: 'story done' },
        })
      ).status,
    ).toBe(200);
    const done = await eventually(
      async () =>
        (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
    );
    expect(done).toBe(true);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const events = async (query: string) => {
    const res = await t.call('GET', `/v1/audit/events?${query}`, { as: AUDITOR });
    expect(res.status).toBe(200);
    return res.body as { events: Event[]; next: number };
  };

  test('when the auditor verifies the log after the story, then it is intact', async () => {
    await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR });
    const res = await t.call('GET', '/v1/audit/verify', { as: AUDITOR });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      root_hash: expect.any(String),
      checkpoints_checked: expect.any(Number),
    });
    expect(res.body.checkpoints_checked).toBeGreaterThanOrEqual(1);
    expect(res.body.checked).toBeGreaterThanOrEqual(10);
    expect(res.body).not.toHaveProperty('broken_at');
  });

  test('when the auditor lists the task events, then the decisions, the grant and the close are all there in order', async () => {
    const { events: list } = await events(`task=${taskId}&limit=1000`);
    const types = list.map((e) => e.type);
    expect(types[0]).toBe('decision.allow');
    expect(types).toEqual(
      expect.arrayContaining([
        'task.opened',
        'decision.deny',
        'grant.issued',
        'task.closing',
        'grant.revoked',
        'task.closed',
      ]),
    );
    expect(types.indexOf('grant.issued')).toBeLessThan(types.indexOf('task.closing'));
    expect(types.indexOf('task.closing')).toBeLessThan(types.lastIndexOf('task.closed'));
    expect(list.every((e) => e.task_id === taskId)).toBe(true);
    const leaves = list.map((e) => e.leaf_index);
    expect([...leaves].sort((a, b) => a - b)).toEqual(leaves);

    const decisions = list.filter((e) => e.type.startsWith('decision.'));
    for (const d of decisions) {
      expect(d.payload).toMatchObject({
        action: expect.any(String),
        policy_ids: expect.any(Array),
        policy_version: expect.any(String),
      });
    }
    const actions = decisions.map((d) => `${d.type}:${d.payload.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'decision.allow:OpenTask',
        'decision.deny:RequestGrant',
        'decision.allow:RequestGrant',
        'decision.allow:CloseTask',
      ]),
    );
    const privilegedDeny = decisions.find((d) => d.type === 'decision.deny' && d.principal === AGENT_A)!;
    expect(privilegedDeny.payload.policy_ids).toEqual(['privileged-needs-approval']);
    const strangerDeny = decisions.find((d) => d.type === 'decision.deny' && d.principal === STRANGER)!;
    expect(strangerDeny.payload.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining('no policy permits')]),
    );
    const allowGrant = decisions.find(
      (d) => d.type === 'decision.allow' && d.payload.action === 'RequestGrant',
    )!;
    expect(allowGrant.payload.policy_ids).toEqual(['agent-request-grant']);
    expect(allowGrant.grant_id).toBe(grantId);

    const issued = list.find((e) => e.type === 'grant.issued')!;
    expect(issued).toMatchObject({ grant_id: grantId, principal: AGENT_A });
    expect(issued.payload).toMatchObject({
      scopes: ['db:demo:read'],
      policy_ids: ['agent-request-grant'],
      policy_version: expect.any(String),
      vault_token_accessor: expect.any(String),
    });
    const closing = list.find((e) => e.type === 'task.closing')!;
    expect(closing).toMatchObject({
      principal: ORCHESTRATOR,
      payload: { reason: 'story done', grants_revoked: 1 },
    });
    expect(list.find((e) => e.type === 'task.closed')!.payload).toMatchObject({
      status: 'closed',
      irrevocable_leases: 0,
    });
  });

  test('when the auditor pages and filters, then pages follow the leaf order and filters narrow', async () => {
    const first = await events(`task=${taskId}&limit=3`);
    expect(first.events).toHaveLength(3);
    expect(first.next).toBe(first.events[2]!.leaf_index);
    const second = await events(`task=${taskId}&limit=3&after=${first.next}`);
    expect(second.events[0]!.leaf_index).toBeGreaterThan(first.next);
    const byGrant = await events(`grant=${grantId}`);
    expect(byGrant.events.length).toBeGreaterThan(0);
    expect(byGrant.events.every((e) => e.grant_id === grantId)).toBe(true);
    const byPrincipal = await events(`principal=${encodeURIComponent(STRANGER)}`);
    expect(byPrincipal.events.map((e) => e.type)).toEqual(['decision.deny']);
    const bad = await t.call('GET', '/v1/audit/events?task=not-a-uuid', { as: AUDITOR });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
  });

  test('when an agent or an orchestrator reads the audit log, then 403 access_denied', async () => {
    for (const who of [AGENT_A, ORCHESTRATOR]) {
      for (const path of [`/v1/audit/events?task=${taskId}`, '/v1/audit/verify']) {
        const res = await t.call('GET', path, { as: who });
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('access_denied');
      }
    }
  });

  test('when someone edits an audit row in the database, then it is refused', async () => {
    await expect(
      sql`update audit_events set principal = 'mallory' where task_id = ${taskId}`.execute(t.db.db),
    ).rejects.toThrow();
    await expect(sql`delete from audit_events where task_id = ${taskId}`.execute(t.db.db)).rejects.toThrow();
  });
});
