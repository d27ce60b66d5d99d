import { ManualClock } from '../../../server/shared/clock';
import { startTestBroker, type TestBroker } from '../../helpers/broker';
import { CookieJar, consoleApi, send, signInThroughProvider } from '../../helpers/console-client';
import { consoleEnv, startTestOidcProvider, type TestOidcProvider } from '../../helpers/oidc-provider';

const SESSION = 'grantline-console';
const LOGIN = 'grantline-console-login';

/** Issue 16: people sign in to the console with OpenID Connect (code + PKCE) against a real provider. */
describe('console sign-in with OpenID Connect', () => {
  const clock = new ManualClock();
  let provider: TestOidcProvider;
  let t: TestBroker;
  let url: string;

  beforeAll(async () => {
    provider = await startTestOidcProvider();
    t = await startTestBroker({ clock, env: consoleEnv(provider) });
    url = t.broker.url;
    await provider.registerClient('grantline-console', `${url}/console/auth/callback`);
  });
  afterAll(async () => {
    await t?.stop();
    await provider?.stop();
  });

  test('when nobody signed in, then the console API answers 401 and changes nothing', async () => {
    const jar = new CookieJar();
    expect((await consoleApi(jar, url, 'GET', '/session')).status).toBe(401);
    expect((await consoleApi(jar, url, 'GET', '/tasks')).status).toBe(401);
    const post = await consoleApi(
      jar,
      url,
      'POST',
      '/approval-requests/00000000-0000-4000-8000-000000000000/decision',
      {
        body: { decision: 'approve', reason: 'x' },
        csrf: 'guess',
      },
    );
    expect(post.status).toBe(401);
  });

  test('when login starts, then the provider gets S256 PKCE, state and nonce, and the browser a Lax transaction cookie', async () => {
    const jar = new CookieJar();
    const res = await send(jar, `${url}/console/auth/login`);
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(provider.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).toBeTruthy();
    expect(to.searchParams.get('nonce')).toBeTruthy();
    expect(to.searchParams.get('redirect_uri')).toBe(`${url}/console/auth/callback`);
    const cookie = res.setCookies.find((c) => c.startsWith(`${LOGIN}=`))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    // The transaction (with the PKCE verifier) is encrypted, not merely signed.
    expect(cookie.split(';')[0]!.split('=')[1]!.split('.')).toHaveLength(5);
  });

  test('when an approver signs in, then a short HttpOnly SameSite=Strict session names the verified person and role', async () => {
    const jar = new CookieJar();
    const callback = await signInThroughProvider(jar, url, 'alice');
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/console/');
    const cookie = callback.setCookies.find((c) => c.startsWith(`${SESSION}=`))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=1800/);
    const session = await consoleApi(jar, url, 'GET', '/session');
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({
      name: 'Alice Approver',
      issuer: provider.issuer,
      subject: 'alice',
      roles: ['approver'],
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const signedIn = await t.db.db
      .selectFrom('audit_events')
      .select(['principal', 'payload'])
      .where('type', '=', 'console.signed_in')
      .where('principal', '=', `${provider.issuer}#alice`)
      .execute();
    expect(signedIn[0]?.payload).toMatchObject({ via: 'oidc', roles: ['approver'], subject: 'alice' });
    // Neither the session nor its CSRF token is ever logged.
    const sessionValue = jar.get(url, SESSION)!;
    expect(t.logs.join('\n')).not.toContain(sessionValue);
    expect(t.logs.join('\n')).not.toContain(session.body.csrf_token);
  });

  test('when the callback is forged, replayed or comes to another browser, then 400 and no session', async () => {
    const forged = new CookieJar();
    const bad = await signInThroughProvider(forged, url, 'alice', {
      beforeCallback: (u) => u.replace(/state=[^&]+/, 'state=forged'),
    });
    expect(bad.status).toBe(400);
    expect(forged.get(url, SESSION)).toBeUndefined();

    const jar = new CookieJar();
    let callbackUrl = '';
    let transaction = '';
    const ok = await signInThroughProvider(jar, url, 'alice', {
      beforeCallback: (u) => {
        callbackUrl = u;
        transaction = jar.get(url, LOGIN)!;
        return u;
      },
    });
    expect(ok.status).toBe(303);
    // The same code again with the same transaction (a replay): the provider refuses the used code.
    const replay = new CookieJar();
    replay.set(url, LOGIN, transaction);
    const replayed = await send(replay, callbackUrl);
    expect(replayed.status).toBe(400);
    expect(replay.get(url, SESSION)).toBeUndefined();
    // And from a browser that never started this sign-in.
    expect((await send(new CookieJar(), callbackUrl)).status).toBe(400);
  });

  test('when the session cookie is tampered with or has expired, then 401', async () => {
    const jar = new CookieJar();
    await signInThroughProvider(jar, url, 'carol');
    const value = jar.get(url, SESSION)!;
    const [h, p, s] = value.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.human.roles = ['auditor', 'approver'];
    jar.set(url, SESSION, `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`);
    expect((await consoleApi(jar, url, 'GET', '/session')).status).toBe(401);
    jar.set(url, SESSION, value);
    expect((await consoleApi(jar, url, 'GET', '/session')).status).toBe(200);
    clock.advance(31 * 60_000);
    try {
      expect((await consoleApi(jar, url, 'GET', '/session')).status).toBe(401);
    } finally {
      clock.set(Date.now());
    }
  });

  test('when a person has no mapped role, then they are signed in and may read and decide nothing', async () => {
    const jar = new CookieJar();
    await signInThroughProvider(jar, url, 'mallory');
    const session = await consoleApi(jar, url, 'GET', '/session');
    expect(session.body.roles).toEqual([]);
    expect((await consoleApi(jar, url, 'GET', '/audit/events')).status).toBe(403);
    expect((await consoleApi(jar, url, 'GET', '/approval-requests')).status).toBe(403);
    expect((await consoleApi(jar, url, 'GET', '/tasks')).body).toEqual({ tasks: [] });
  });

  test('when signing out, then the cookie is cleared (CSRF-protected like every state change)', async () => {
    const jar = new CookieJar();
    await signInThroughProvider(jar, url, 'carol');
    const { csrf_token } = (await consoleApi(jar, url, 'GET', '/session')).body;
    expect((await consoleApi(jar, url, 'POST', '/sign-out')).status).toBe(403);
    const out = await consoleApi(jar, url, 'POST', '/sign-out', { csrf: csrf_token });
    expect(out.status).toBe(204);
    expect(out.setCookies.find((c) => c.startsWith(`${SESSION}=`))).toMatch(/Max-Age=0/);
    expect((await consoleApi(jar, url, 'GET', '/session')).status).toBe(401);
  });
});
