import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  AGENT_A,
  AGENT_B,
  eventually,
  ORCHESTRATOR,
  startTestBroker,
  type TestBroker,
} from '../helpers/broker';
import { consoleEnv, startTestOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider';
import { argsDigest, type GrantBody, grantOk, openTask } from '../helpers/scenario';
import { accessibilityViolations, launchChromium, screenshot, signIn, watchErrors } from './support/chromium';

const DEPLOY = 'tool:demo:deploy';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

/**
 * Issue 16 in a real browser: an auditor and an approver sign in through a real OpenID provider, the
 * auditor sees a task's delegation tree and its receipt turn complete during a close, the approver
 * approves one privileged request and denies another. Screenshots of each page go to test-results/.
 */
describe('the console in Chromium', () => {
  let provider: TestOidcProvider;
  let t: TestBroker;
  let url: string;
  let browser: Browser;
  let auditorContext: BrowserContext;
  let approverContext: BrowserContext;
  let carol: Page;
  let alice!: Page;
  let taskId: string;
  const errors: string[] = [];
  const secrets: string[] = [];
  const pageTexts: string[] = [];
  const figures: string[] = [];

  const a11y: string[] = [];
  /** Keeps what the page shows (to look for secrets) and what axe-core finds wrong with it. */
  const remember = async (page: Page) => {
    pageTexts.push(await page.locator('body').innerText());
    a11y.push(...(await accessibilityViolations(page)).map((v) => `${new URL(page.url()).pathname}: ${v}`));
  };
  const keepSecrets = (g: GrantBody) => {
    secrets.push(g.access_token);
    for (const s of g.secrets)
      for (const v of Object.values(s.data)) if (String(v).length >= 8) secrets.push(String(v));
  };
  const askApproval = (args: string) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval: 'request',
        context: {
          tool: 'deploy',
          target: 'orders-service',
          args_digest: argsDigest(args),
          args_preview: args,
        },
      },
    });
  const comeBack = (id: string, args: string) =>
    t.call('POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      body: {
        scopes: [DEPLOY],
        audience: 'deployer',
        approval_request_id: id,
        context: { args_digest: argsDigest(args) },
      },
    });
  const card = (id: string) => alice.locator(`[data-request-id="${id}"]`);

  beforeAll(async () => {
    provider = await startTestOidcProvider();
    t = await startTestBroker({ env: consoleEnv(provider) });
    url = t.broker.url;
    await provider.registerClient('grantline-console', `${url}/console/auth/callback`);
    browser = await launchChromium();
    auditorContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    approverContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    for (const c of [auditorContext, approverContext]) c.on('page', (p) => watchErrors(p, url, errors));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await provider?.stop();
    if (figures.length) console.log(figures.join('\n'));
  });

  test('when an auditor signs in through the OpenID provider, then the tasks page opens with a strict session cookie', async () => {
    carol = await signIn(auditorContext, url, 'carol');
    await carol.waitForURL(`${url}/console/tasks`);
    await carol.getByRole('heading', { name: 'Tasks' }).waitFor();
    expect(await carol.getByText('Carol Auditor').count()).toBe(1);
    const session = (await auditorContext.cookies(url)).find((c) => c.name === 'grantline-console')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The page's scripts cannot read the session (HttpOnly).
    expect(await carol.evaluate('document.cookie')).not.toContain('grantline-console');
  });

  test('when a task has a delegation, then its page draws the tree with each hop\u2019s holder, policies and leases', async () => {
    taskId = await openTask(t, {
      purpose: 'reconcile refunds for order 1182',
      agents: [AGENT_A],
      limits: { max_grants: 20, max_active: 10, max_depth: 2, max_fanout: 3, budget: 50 },
    });
    const grantA = await grantOk(t, taskId, ['db:demo:read', 'kv:demo/api-key'], {
      context: { tool: 'sql' },
    });
    keepSecrets(grantA);
    const offer = await t.call('POST', `/v1/grants/${grantA.grant_id}/delegations`, {
      as: AGENT_A,
      body: { to: AGENT_B, scopes: ['db:demo:read'], ttl: 300, budget: 2, may_redelegate: false },
    });
    secrets.push(offer.body.delegation_token);
    const redeemed = await t.call('POST', '/oauth2/token', {
      as: AGENT_B,
      form: {
        grant_type: EXCHANGE,
        subject_token: offer.body.delegation_token,
        subject_token_type: JWT,
        actor_token: await t.svid(AGENT_B),
        actor_token_type: JWT,
      },
    });
    expect(redeemed.status).toBe(200);
    keepSecrets(redeemed.body);

    await carol.getByRole('link', { name: 'reconcile refunds for order 1182' }).click();
    await carol.getByRole('heading', { name: 'Delegation tree' }).waitFor();
    const hops = carol.locator('.react-flow__node-hop');
    expect(await eventually(async () => (await hops.count()) === 2)).toBe(true);
    const graph = await carol.getByTestId('lineage-graph').innerText();
    for (const text of [
      '/agent/researcher',
      '/agent/summariser',
      'agent-request-grant',
      'subagent-redeem-grant',
      'delegated',
      'no re-delegation',
    ])
      expect(graph).toContain(text);
    expect(await carol.locator('.react-flow__node-task').innerText()).toContain('reconcile refunds');
    await carol.getByText('The tree as text').click();
    expect(await carol.locator('.tree-text li').count()).toBe(2);
    await remember(carol);
    await screenshot(carol, 'console-lineage');
  });

  test('when an agent asks for a privileged scope, then it is in the approver\u2019s inbox at once, and once approved the agent gets its grant', async () => {
    alice = await signIn(approverContext, url, 'alice');
    await alice.waitForURL(`${url}/console/approvals`);
    const args = '{"service": "orders", "version": "1.4.2", "canary": true}';
    const asked = await askApproval(args);
    expect(asked.status).toBe(202);
    const shownAfter = Date.now();
    const polling = t.call('GET', `/v1/approval-requests/${asked.body.id}?wait=30s`, { as: AGENT_A });
    await card(asked.body.id).waitFor({ timeout: 10_000 });
    figures.push(
      `inbox: the request appeared in the approver's browser ${Date.now() - shownAfter} ms after the 202`,
    );
    const text = await card(asked.body.id).innerText();
    for (const fact of [
      '/agent/researcher',
      DEPLOY,
      'reconcile refunds',
      args,
      argsDigest(args),
      'risk score 10',
    ])
      expect(text).toContain(fact);
    await remember(alice);
    await screenshot(alice, 'console-approvals-inbox');

    await card(asked.body.id).getByLabel('Reason').fill('canary release approved in CAB-77');
    await card(asked.body.id).getByRole('button', { name: 'Approve' }).click();
    const decided = await polling;
    expect(decided.body).toMatchObject({
      status: 'approved',
      decision: { by: { kind: 'human', issuer: provider.issuer, subject: 'alice', name: 'Alice Approver' } },
    });
    const granted = await comeBack(asked.body.id, args);
    expect(granted.status).toBe(201);
    keepSecrets(granted.body);
    await card(asked.body.id).waitFor({ state: 'detached' });

    // The auditor's open task page shows the approval on the new hop, with who gave it.
    await carol.getByText('Approved tool:demo:deploy by Alice Approver').first().waitFor({ timeout: 10_000 });
    expect(await carol.getByTestId('lineage-graph').innerText()).toContain(`alice @ ${provider.issuer}`);
    await remember(carol);
    await screenshot(carol, 'console-lineage-approved');
  });

  test('when the approver denies a request, then the agent stays out', async () => {
    const args = '{"service": "orders", "version": "2.0.0", "force": true}';
    const asked = await askApproval(args);
    await card(asked.body.id).waitFor({ timeout: 10_000 });
    await card(asked.body.id).getByRole('button', { name: 'Deny' }).click();
    expect(await card(asked.body.id).getByRole('alert').innerText()).toMatch(/reason/i);
    await card(asked.body.id).getByLabel('Reason').fill('a forced major upgrade needs a change window');
    await card(asked.body.id).getByRole('button', { name: 'Deny' }).click();
    const polled = await t.call('GET', `/v1/approval-requests/${asked.body.id}?wait=10s`, { as: AGENT_A });
    expect(polled.body).toMatchObject({ status: 'denied', approvals: [] });
    const refused = await comeBack(asked.body.id, args);
    expect(refused.status).toBe(403);
    expect(refused.body.policy_ids).toEqual(['privileged-needs-approval']);
    await alice.getByLabel('Show').selectOption('denied');
    await card(asked.body.id)
      .getByText('a forced major upgrade needs a change window', { exact: false })
      .waitFor();
    await remember(alice);
    await screenshot(alice, 'console-approvals-denied');
  });

  test('when the task closes while Vault is down, then the receipt shows the retries live and turns complete once Vault is back', async () => {
    const status = carol.getByTestId('receipt-status');
    expect(await status.innerText()).toContain('The task is open');
    const devVault = t.broker.vault.devVault!;
    await devVault.stop();
    try {
      const closed = await t.call('POST', `/v1/tasks/${taskId}/close`, {
        as: ORCHESTRATOR,
        body: { reason: 'refunds reconciled' },
      });
      expect(closed.status).toBe(200);
      await carol.getByText(/Revoking: .*retrying/).waitFor({ timeout: 20_000 });
      await remember(carol);
      await screenshot(carol, 'console-receipt-revoking');
    } finally {
      await devVault.start();
    }
    const back = Date.now();
    await carol
      .getByText('Complete: every credential of the task is confirmed revoked.')
      .waitFor({ timeout: 90_000 });
    figures.push(`receipt: complete in the browser ${Date.now() - back} ms after Vault came back`);
    await carol.locator('dl.facts').first().getByText('closed', { exact: true }).waitFor();
    await remember(carol);
    await screenshot(carol, 'console-receipt-complete');
  });

  test('when the auditor opens the audit log of the task, then the approvals and the close are on it', async () => {
    await carol.goto(`${url}/console/audit?task=${taskId}`);
    await carol.getByRole('heading', { name: 'Audit log' }).waitFor();
    await carol.locator('tr[data-leaf]').first().waitFor();
    const table = await carol.locator('table.audit').innerText();
    for (const type of [
      'task.opened',
      'grant.delegated',
      'approval_request.approved',
      'approval_request.denied',
      'task.closing',
    ])
      expect(table).toContain(type);
    await remember(carol);
    await screenshot(carol, 'console-audit');
    await carol.goto(`${url}/console/tasks`);
    await carol.locator('tr[data-task-id]').first().waitFor();
    await remember(carol);
    await screenshot(carol, 'console-tasks');
  });

  test('when every page was drawn, then none showed a secret and none reported an error (a CSP violation is one)', async () => {
    expect(secrets.length).toBeGreaterThan(4);
    for (const text of pageTexts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/hv[sbr]\.[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]+\.eyJ/);
    }
    expect(errors).toEqual([]);
  });

  test('when every page was drawn, then axe-core found no WCAG 2.1 A or AA violation on any', () => {
    expect(pageTexts.length).toBeGreaterThanOrEqual(8);
    expect(a11y).toEqual([]);
  });
});
