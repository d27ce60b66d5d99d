import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_HUMAN_ISSUER, devSignInLinkFor } from '../../../server/dev/console/dev-sign-in';
import { initDevTrustDomain } from '../../../server/dev/identity/dev-trust-domain';
import { ManualClock } from '../../../server/shared/clock';
import { startTestBroker, type TestBroker } from '../../helpers/broker';
import { CookieJar, consoleApi, send } from '../../helpers/console-client';

/**
 * Issue 16: `grantline console` prints a one-time sign-in link for a dev human, like a notebook
 * server's token link; only a broker on the dev trust domain accepts it, and only once.
 */
describe('the dev sign-in link and the console assets', () => {
  const clock = new ManualClock();
  let t: TestBroker;
  let assets: string;

  const link = (o: { ttlSeconds?: number; roles?: Array<'auditor' | 'approver'> } = {}) =>
    devSignInLinkFor(
      { home: t.home, console: {} },
      {
        baseUrl: t.broker.url,
        human: { subject: 'dev-human', name: 'Dev Human', roles: o.roles ?? ['auditor', 'approver'] },
        ttlSeconds: o.ttlSeconds ?? 600,
        now: clock.now(),
      },
    );

  beforeAll(async () => {
    assets = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-console-assets-'));
    fs.mkdirSync(path.join(assets, 'assets'));
    fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>Grantline console</title>');
    fs.writeFileSync(path.join(assets, 'assets', 'app-1234.js'), 'console.log(1)');
    t = await startTestBroker({ clock, env: { GRANTLINE_CONSOLE_ASSETS: assets } });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(assets, { recursive: true, force: true });
  });

  test('when the link is opened, then a session starts for the dev human, and the link is spent', async () => {
    const url = await link();
    const jar = new CookieJar();
    const first = await send(jar, url);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/console/');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    const session = await consoleApi(jar, t.broker.url, 'GET', '/session');
    expect(session.body).toMatchObject({
      issuer: DEV_HUMAN_ISSUER,
      subject: 'dev-human',
      roles: ['auditor', 'approver'],
    });
    const again = await send(new CookieJar(), url);
    expect(again.status).toBe(400);
    expect(again.body.error_description).toMatch(/used already/);
    const events = await t.db.db
      .selectFrom('audit_events')
      .select('payload')
      .where('type', '=', 'console.signed_in')
      .execute();
    expect(events.map((e) => e.payload)).toContainEqual(expect.objectContaining({ via: 'dev-link' }));
    // The token in the link is never logged (the request log keeps the path only).
    expect(t.logs.join('\n')).not.toContain(new URL(url).searchParams.get('token')!);
  });

  test('when the link is tampered with or late, then 400 and no session', async () => {
    const url = new URL(await link({ roles: ['approver'] }));
    const token = url.searchParams.get('token')!;
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    url.searchParams.set(
      'token',
      `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['auditor'] })).toString('base64url')}.${s}`,
    );
    const jar = new CookieJar();
    expect((await send(jar, url.href)).status).toBe(400);
    const late = await link({ ttlSeconds: 60 });
    clock.advance(61_000);
    expect((await send(jar, late)).status).toBe(400);
    expect(jar.get(t.broker.url, 'grantline-console')).toBeUndefined();
  });

  test('when no identity provider is configured, then login says so (503)', async () => {
    const res = await send(new CookieJar(), `${t.broker.url}/console/auth/login`);
    expect(res.status).toBe(503);
  });

  test('when the console is opened, then every page is the app under a strict CSP, and assets are immutable', async () => {
    const page = await send(new CookieJar(), `${t.broker.url}/console/tasks/abc`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Grantline console');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const asset = await send(new CookieJar(), `${t.broker.url}/console/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const missing = await send(new CookieJar(), `${t.broker.url}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect((await send(new CookieJar(), `${t.broker.url}/console/api/nope`)).status).toBe(401);
  });
});

describe('a broker not on the dev trust domain', () => {
  let t: TestBroker;
  let home: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-home-'));
    const dev = await initDevTrustDomain(home, new ManualClock());
    t = await startTestBroker({
      env: {
        GRANTLINE_HOME: home,
        GRANTLINE_TRUST_DOMAIN: 'dev.grantline.local',
        GRANTLINE_TRUST_BUNDLE: dev.bundlePath,
        GRANTLINE_CONSOLE_ASSETS: path.join(home, 'no-assets'),
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('when a dev sign-in link is presented, then there is no such route, and no session can exist', async () => {
    const url = await devSignInLinkFor(
      { home, console: {} },
      {
        baseUrl: t.broker.url,
        human: { subject: 'dev-human', name: 'Dev', roles: ['approver'] },
        ttlSeconds: 600,
        now: new Date(),
      },
    );
    const jar = new CookieJar();
    expect((await send(jar, url)).status).toBe(404);
    const session = await consoleApi(jar, t.broker.url, 'GET', '/session');
    expect(session.status).toBe(401);
    expect(session.body.reason).toBe('not_configured');
    expect((await send(jar, `${t.broker.url}/console/`)).status).toBe(503);
  });
});
