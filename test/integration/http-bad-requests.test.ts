import { AGENT_A, ORCHESTRATOR, STRANGER, startTestBroker, type TestBroker } from '../helpers/broker';
import { auditEvents, grantRows, openTask, rawCall, requestGrant, taskRow } from '../helpers/scenario';

/**
 * DESIGN "Rules": bad input gets a clear 4xx and changes nothing. Every request below is refused with
 * an exact status and error code; afterwards the task's counters are untouched, no grant row exists,
 * and the only audit events the refusals left are decisions.
 */
describe('bad requests to the grant endpoint are refused and change nothing', () => {
  let t: TestBroker;
  let taskId: string;
  let seqBefore: string;
  const grantPath = () => `/v1/tasks/${taskId}/grants`;
  const validBody = { scopes: ['kv:demo/api-key'], audience: 'orders-api', ttl: '5m' };

  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t, { scopes: ['kv:demo/api-key'], agents: [AGENT_A] });
    const events = await auditEvents(t, taskId);
    seqBefore = events[events.length - 1]!.seq;
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when an agent asks for a scope outside the task ceiling, then 403 access_denied with the policy reasons', async () => {
    const res = await requestGrant(t, taskId, ['db:demo:read']);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'access_denied',
      policy_ids: expect.any(Array),
      policy_version: expect.any(String),
    });
    expect(res.body.reasons).toEqual([expect.stringContaining('db:demo:read')]);
    expect(res.body.error_description).toEqual(expect.any(String));
  });

  test('when an agent not listed on the task asks, then 403 access_denied', async () => {
    const res = await requestGrant(t, taskId, ['kv:demo/api-key'], { as: STRANGER });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect(res.body.reasons.length).toBeGreaterThan(0);
  });

  test('when the scope is not in the catalogue, then 400 invalid_request naming it', async () => {
    const res = await requestGrant(t, taskId, ['db:nope:read']);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', unknown_scopes: ['db:nope:read'] });
  });

  test('when the body is not valid JSON, then 400 invalid_request', async () => {
    const res = await rawCall(t, 'POST', grantPath(), {
      as: AGENT_A,
      headers: { 'content-type': 'application/json' },
      body: '{"scopes": [',
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: expect.any(String),
      iss: expect.any(String),
    });
  });

  test('when the body carries an unknown field, then 400 invalid_request naming the field', async () => {
    const res = await t.call('POST', grantPath(), {
      as: AGENT_A,
      body: { ...validBody, sneaky_extra: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('sneaky_extra');
    expect(JSON.stringify(res.body.fields)).toContain('sneaky_extra');
  });

  test('when a field has the wrong type, then 400 invalid_request naming the field', async () => {
    const res = await t.call('POST', grantPath(), {
      as: AGENT_A,
      body: { ...validBody, scopes: 'kv:demo/api-key' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.fields).toEqual([expect.objectContaining({ field: 'scopes' })]);
  });

  test('when the body is larger than 64 KiB, then 413', async () => {
    const body = JSON.stringify({ ...validBody, context: { intent: 'x'.repeat(70 * 1024) } });
    const res = await rawCall(t, 'POST', grantPath(), {
      as: AGENT_A,
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: 'payload_too_large',
      error_description: expect.any(String),
      iss: expect.any(String),
    });
  });

  test('when the body is not JSON by content type, then 415', async () => {
    const res = await rawCall(t, 'POST', grantPath(), {
      as: AGENT_A,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(validBody),
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      error: 'unsupported_media_type',
      error_description: expect.any(String),
      iss: expect.any(String),
    });
  });

  test('when the route does not exist, then 404 not_found (after authentication under /v1)', async () => {
    const authed = await t.call('GET', '/v1/no-such-thing', { as: AGENT_A });
    expect(authed.status).toBe(404);
    expect(authed.body).toEqual({
      error: 'not_found',
      error_description: expect.any(String),
    });
    const open = await t.call('GET', '/no-such-thing');
    expect(open.status).toBe(404);
    expect(open.body.error).toBe('not_found');
  });

  test('when no SVID is sent, then 401 invalid_token with WWW-Authenticate', async () => {
    const res = await t.call('POST', grantPath(), { body: validBody });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="grantline", error="invalid_token"/);
  });

  test('when the Authorization header is not a valid SVID, then 401 invalid_token', async () => {
    const res = await t.call('POST', grantPath(), {
      body: validBody,
      headers: { authorization: 'Bearer not.a.jwt' },
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  test('when the task id is not a UUID or names no task, then 404 not_found', async () => {
    const notUuid = await t.call('POST', '/v1/tasks/not-a-uuid/grants', { as: AGENT_A, body: validBody });
    expect(notUuid.status).toBe(404);
    expect(notUuid.body.error).toBe('not_found');
    const unknown = await t.call('POST', '/v1/tasks/00000000-0000-4000-8000-000000000000/grants', {
      as: AGENT_A,
      body: validBody,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    const read = await t.call('GET', '/v1/tasks/00000000-0000-4000-8000-000000000000', { as: ORCHESTRATOR });
    expect(read.status).toBe(404);
  });

  test('when all of the above were refused, then the task is unchanged and only decisions were audited', async () => {
    expect(await taskRow(t, taskId)).toEqual({
      status: 'open',
      grants_issued: 0,
      active_grants: 0,
      budget_spent: 0,
      actions_spent: 0,
    });
    expect(await grantRows(t, taskId)).toEqual([]);
    const leases = await t.db.db.selectFrom('leases').select('kind').where('task_id', '=', taskId).execute();
    expect(leases).toEqual([{ kind: 'task_token' }]);
    const added = (await auditEvents(t, taskId)).filter((e) => BigInt(e.seq) > BigInt(seqBefore));
    expect(added.length).toBeGreaterThanOrEqual(2);
    expect(new Set(added.map((e) => e.type))).toEqual(new Set(['decision.deny']));
    const jobs = await t.db.db
      .selectFrom('revocation_jobs')
      .select('id')
      .where('task_id', '=', taskId)
      .execute();
    expect(jobs).toEqual([]);
  });
});
