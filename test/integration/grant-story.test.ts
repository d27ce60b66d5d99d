import {
  AGENT_A,
  eventually,
  ORCHESTRATOR,
  openTaskBody,
  RESOURCE,
  startTestBroker,
  type TestBroker,
  tryLogin,
} from '../helpers/broker';

describe('the full story: open → grant → use → introspect → close → everything dead', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when a task closes, then its grant stops working in the broker, in Vault and at PostgreSQL', async () => {
    const opened = await t.call('POST', '/v1/tasks', { as: ORCHESTRATOR, body: openTaskBody() });
    expect(opened.status).toBe(201);
    const taskId = opened.body.id;

    const granted = await t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: ['db:demo:read'],
        audience: 'orders-db',
        ttl: '10m',
        context: { tool: 'sql', intent: 'read orders' },
      },
    });
    if (granted.status !== 201)
      console.log(JSON.stringify(granted.body), t.logs.filter((l) => /warn|error|fail/i.test(l)).join('\n'));
    expect(granted.status).toBe(201);
    expect(granted.headers.get('cache-control')).toBe('no-store');
    const secret = granted.body.secrets[0];
    expect(secret).toMatchObject({
      scope: 'db:demo:read',
      kind: 'dynamic',
      connection: { database: t.demoDatabase },
    });
    expect(secret.lease_id).toMatch(/^database\/creds\/demo-read\//);

    const login = await tryLogin(t, secret.data);
    expect(login.ok).toBe(true);
    if (!login.ok) return;
    expect(login.rows[0].n).toBe(3);
    const openSession = login.client;

    const active = await t.call('POST', '/oauth2/introspect', {
      as: RESOURCE,
      form: { token: granted.body.access_token },
    });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({
      active: true,
      client_id: AGENT_A,
      task_id: taskId,
      scope: 'db:demo:read',
      act: { sub: AGENT_A },
    });

    const closed = await t.call('POST', `/v1/tasks/${taskId}/close`, {
      as: ORCHESTRATOR,
      body: { reason: 'done' },
    });
    expect(closed.status).toBe(200);

    const inactive = await t.call('POST', '/oauth2/introspect', {
      as: RESOURCE,
      form: { token: granted.body.access_token },
    });
    expect(inactive.body).toEqual({ active: false });

    expect(await eventually(async () => !(await tryLogin(t, secret.data)).ok)).toBe(true);
    const sessionKilled = await openSession.query('select 1').then(
      () => false,
      () => true,
    );
    expect(sessionKilled).toBe(true);
    await openSession.end().catch(() => undefined);

    expect(
      await eventually(
        async () =>
          (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body.complete === true,
      ),
    ).toBe(true);
    const receipt = (await t.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR })).body;
    expect(receipt.status).toBe('closed');
    expect(receipt.grants[0].status).toBe('revoked');
    expect(receipt.grants[0].leases.map((l: { state: string }) => l.state)).toEqual(['revoked', 'revoked']);
    expect(receipt.task_token.state).toBe('revoked');
  });
});
