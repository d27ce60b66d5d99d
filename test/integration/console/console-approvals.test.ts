import { AGENT_A, APPROVER, AUDITOR, startTestBroker, type TestBroker } from '../../helpers/broker';
import { CookieJar, consoleApi, signInThroughProvider } from '../../helpers/console-client';
import { consoleEnv, startTestOidcProvider, type TestOidcProvider } from '../../helpers/oidc-provider';
import { argsDigest, openTask } from '../../helpers/scenario';

const DEPLOY = 'tool:demo:deploy';
const ARGS = '{"service": "orders", "version": "1.4.2"}';

/**
 * Issue 16: approvers decide in the console as themselves (their verified issuer and subject), with
 * CSRF protection; auditors read tasks, lineage and the audit log and decide nothing.
 */
describe('the console API for approvers and auditors', () => {
  let provider: TestOidcProvider;
  let t: TestBroker;
  let url: string;
  const alice = new CookieJar();
  const carol = new CookieJar();
  let aliceCsrf: string;
  let carolCsrf: string;

  const ask = (taskId: string, args = ARGS) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval: 'request',
        context: { tool: 'deploy', target: 'orders', args_digest: argsDigest(args), args_preview: args },
      },
    });
  const comeBack = (taskId: string, id: string) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval_request_id: id,
        context: { args_digest: argsDigest(ARGS) },
      },
    });

  beforeAll(async () => {
    provider = await startTestOidcProvider();
    t = await startTestBroker({ env: consoleEnv(provider) });
    url = t.broker.url;
    await provider.registerClient('grantline-console', `${url}/console/auth/callback`);
    await signInThroughProvider(alice, url, 'alice');
    await signInThroughProvider(carol, url, 'carol');
    aliceCsrf = (await consoleApi(alice, url, 'GET', '/session')).body.csrf_token;
    carolCsrf = (await consoleApi(carol, url, 'GET', '/session')).body.csrf_token;
  });
  afterAll(async () => {
    await t?.stop();
    await provider?.stop();
  });

  test('when an agent asks, then the request is in the inbox and the approver\u2019s decision carries her verified identity', async () => {
    const taskId = await openTask(t);
    const asked = await ask(taskId);
    expect(asked.status).toBe(202);
    const inbox = await consoleApi(alice, url, 'GET', '/approval-requests?status=pending');
    expect(inbox.status).toBe(200);
    const item = inbox.body.approval_requests.find((r: { id: string }) => r.id === asked.body.id);
    expect(item).toMatchObject({
      agent: AGENT_A,
      args_preview: ARGS,
      task: { purpose: 'summarise last quarter orders' },
    });

    const decided = await consoleApi(alice, url, 'POST', `/approval-requests/${asked.body.id}/decision`, {
      body: { decision: 'approve', reason: 'release window', single_use: true, ttl: '5m' },
      csrf: aliceCsrf,
    });
    expect(decided.status).toBe(200);
    expect(decided.body.decision.by).toEqual({
      kind: 'human',
      issuer: provider.issuer,
      subject: 'alice',
      name: 'Alice Approver',
    });
    const granted = await comeBack(taskId, asked.body.id);
    expect(granted.status).toBe(201);
    const lineage = await consoleApi(carol, url, 'GET', `/tasks/${taskId}/lineage`);
    expect(lineage.body.grants[0].approval).toMatchObject({
      approver: 'Alice Approver',
      approver_kind: 'human',
      approver_issuer: provider.issuer,
      approver_subject: 'alice',
      approval_request_id: asked.body.id,
    });
    const audit = await consoleApi(carol, url, 'GET', `/audit/events?task=${taskId}`);
    const approved = audit.body.events.find((e: { type: string }) => e.type === 'approval_request.approved');
    expect(approved.principal).toBe(`${provider.issuer}#alice`);
  });

  test('when the decision lacks the CSRF token or comes from another origin, then 403 and the request stays pending', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    const path = `/approval-requests/${id}/decision`;
    const body = { decision: 'approve', reason: 'ok' };
    expect((await consoleApi(alice, url, 'POST', path, { body })).status).toBe(403);
    expect((await consoleApi(alice, url, 'POST', path, { body, csrf: carolCsrf })).status).toBe(403);
    const crossSite = await consoleApi(alice, url, 'POST', path, {
      body,
      csrf: aliceCsrf,
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toBe('access_denied');
    const state = await t.call('GET', `/v1/approval-requests/${id}`, { as: APPROVER });
    expect(state.body.status).toBe('pending');
    // A person cannot put another approver's name on the record.
    const named = await consoleApi(alice, url, 'POST', path, {
      body: { ...body, approver: 'the CEO' },
      csrf: aliceCsrf,
    });
    expect(named.status).toBe(400);
  });

  test('when an auditor tries to decide, then 403; when the approver denies, then the agent stays out', async () => {
    const taskId = await openTask(t);
    const { id } = (await ask(taskId)).body;
    const byAuditor = await consoleApi(carol, url, 'POST', `/approval-requests/${id}/decision`, {
      body: { decision: 'approve', reason: 'looks fine' },
      csrf: carolCsrf,
    });
    expect(byAuditor.status).toBe(403);
    expect(byAuditor.body.error).toBe('access_denied');
    const denied = await consoleApi(alice, url, 'POST', `/approval-requests/${id}/decision`, {
      body: { decision: 'deny', reason: 'no deploys on Friday' },
      csrf: aliceCsrf,
    });
    expect(denied.body.status).toBe('denied');
    expect((await comeBack(taskId, id)).status).toBe(403);
  });

  test('when the approver reads tasks, lineage or the audit log, then nothing is shown; the auditor sees them all', async () => {
    const taskId = await openTask(t);
    expect((await consoleApi(alice, url, 'GET', `/tasks/${taskId}/lineage`)).status).toBe(404);
    expect((await consoleApi(alice, url, 'GET', '/audit/events')).status).toBe(403);
    const tasks = await consoleApi(carol, url, 'GET', '/tasks?status=open');
    expect(tasks.body.tasks.map((x: { id: string }) => x.id)).toContain(taskId);
    expect((await consoleApi(carol, url, 'GET', `/tasks/${taskId}/receipt`)).status).toBe(200);
    // The auditor workload and the auditor person read the same lineage.
    const viaSvid = await t.call('GET', `/v1/tasks/${taskId}/lineage`, { as: AUDITOR });
    const viaConsole = await consoleApi(carol, url, 'GET', `/tasks/${taskId}/lineage`);
    expect(viaConsole.body.grants).toEqual(viaSvid.body.grants);
  });
});
