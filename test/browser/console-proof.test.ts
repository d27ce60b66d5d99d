import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { AUDITOR, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { consoleEnv, startTestOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider';
import { openTask } from '../helpers/scenario';
import { accessibilityViolations, launchChromium, screenshot, signIn, watchErrors } from './support/chromium';

const INTRUDER = 'spiffe://dev.grantline.local/agent/intruder';

/**
 * Issue 16, the transparency log in the auditor's browser: "Verify inclusion" checks an audit event
 * against the signed checkpoint in Chromium itself (WebCrypto, the JWKS, RFC 9162), never asking the
 * broker's /audit/verify; an event altered on its way to the browser, or a checkpoint key swapped in
 * the JWKS, fails visibly with the check that caught it.
 */
describe('inclusion proofs checked in Chromium', () => {
  let provider: TestOidcProvider;
  let t: TestBroker;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let carol: Page;
  let taskId: string;
  const errors: string[] = [];
  const a11y: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    provider = await startTestOidcProvider();
    t = await startTestBroker({ env: consoleEnv(provider) });
    url = t.broker.url;
    await provider.registerClient('grantline-console', `${url}/console/auth/callback`);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.on('page', (p) => watchErrors(p, url, errors));
    context.on('request', (r: Request) => requested.push(new URL(r.url()).pathname));
    carol = await signIn(context, url, 'carol');
    taskId = await openTask(t, { purpose: 'rotate the orders database password' });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await provider?.stop();
  });

  /** Opens the task's audit log, opens its `task.opened` event and asks the browser to verify it. */
  const verifyOpenedEvent = async () => {
    await carol.goto(`${url}/console/audit?task=${taskId}`);
    const row = carol.locator('tr[data-leaf]', { hasText: 'task.opened' });
    await row.waitFor();
    await row.locator('summary').click();
    await row.getByRole('button', { name: /^Verify inclusion of leaf \d+$/ }).click();
    const result = row.getByTestId('inclusion-result');
    await result.waitFor({ timeout: 15_000 });
    return { row, result, leaf: Number(await row.getAttribute('data-leaf')) };
  };

  test('when the auditor verifies an event, then her browser shows it in the signed tree, with the root the broker signed', async () => {
    requested.length = 0;
    const { result, leaf } = await verifyOpenedEvent();
    expect(await result.getAttribute('data-ok')).toBe('true');
    const text = await result.innerText();
    const [, size, root] = text.match(/^Included in the signed tree of size (\d+) \(root (\S+), signed at /)!;
    expect(Number(size)).toBeGreaterThan(leaf);
    // The same signed tree head as the log's own list of checkpoints.
    const listed = await t.call('GET', `/v1/audit/checkpoints?after=${Number(size) - 1}&limit=1`, {
      as: AUDITOR,
    });
    expect(listed.body.checkpoints[0]).toMatchObject({ tree_size: Number(size), root_hash: root });
    const jwks = (await fetch(`${url}/.well-known/jwks.json`).then((r) => r.json())) as { keys: JWK[] };
    const auditKey = jwks.keys.find((k) => k.use === 'audit')!;
    expect(text).toContain(`RFC 7638 thumbprint is ${await calculateJwkThumbprint(auditKey, 'sha256')}.`);
    expect(requested).toEqual(
      expect.arrayContaining([
        '/console/api/audit/checkpoint',
        '/.well-known/jwks.json',
        `/console/api/audit/events/${leaf}/proof`,
      ]),
    );
    expect(requested).not.toContain('/console/api/audit/verify');
    a11y.push(...(await accessibilityViolations(carol)));
    await screenshot(carol, 'console-audit-inclusion-verified');
  });

  test('when the event is altered on its way to the browser, then verification fails visibly at the root check', async () => {
    await carol.route(
      (u) => u.pathname === '/console/api/audit/events',
      async (route) => {
        const response = await route.fetch();
        const body = await response.json();
        for (const e of body.events)
          if (e.type === 'task.opened' && e.principal === ORCHESTRATOR) e.principal = INTRUDER;
        await route.fulfill({ response, json: body });
      },
    );
    try {
      const { row, result } = await verifyOpenedEvent();
      expect(await row.innerText()).toContain('/agent/intruder');
      expect(await result.getAttribute('data-ok')).toBe('false');
      expect(await result.getAttribute('data-failed')).toBe('root_mismatch');
      expect(await result.innerText()).toMatch(
        /^Not verified \(check failed: root_mismatch\)\. .*not what the log signed/,
      );
      a11y.push(...(await accessibilityViolations(carol)));
      await screenshot(carol, 'console-audit-inclusion-tampered');
    } finally {
      await carol.unrouteAll();
    }
  });

  test('when the JWKS names another key for the checkpoint\u2019s kid, then the signature check fails visibly', async () => {
    await carol.route(
      (u) => u.pathname === '/.well-known/jwks.json',
      async (route) => {
        const response = await route.fetch();
        const jwks = await response.json();
        const { publicKey } = await generateKeyPair('ES256', { extractable: true });
        const swapped = await exportJWK(publicKey);
        for (const k of jwks.keys) if (k.use === 'audit') Object.assign(k, { x: swapped.x, y: swapped.y });
        await route.fulfill({ response, json: jwks });
      },
    );
    try {
      const { result } = await verifyOpenedEvent();
      expect(await result.getAttribute('data-failed')).toBe('checkpoint_signature');
      expect(await result.innerText()).toContain('signature does not verify');
    } finally {
      await carol.unrouteAll();
    }
  });

  test('when every page was drawn, then none reported an error and axe-core found no WCAG 2.1 A/AA violation', () => {
    expect(errors).toEqual([]);
    expect(a11y).toEqual([]);
  });
});
