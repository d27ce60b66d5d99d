import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { ManualClock } from '../../server/shared/clock';
import { AGENT_A, ORCHESTRATOR, RESOURCE, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantOk, introspect, openTask } from '../helpers/scenario';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * RFC 7662 §2.2: a token that is not active (dead, expired, foreign, forged, garbage) answers exactly
 * `{"active": false}`, with no hint why. Only resource servers may introspect (DESIGN "HTTP API").
 */
describe('introspection never confirms a token it did not issue or that is no longer live', () => {
  const clock = new ManualClock();
  let t: TestBroker;
  let taskId: string;
  beforeAll(async () => {
    t = await startTestBroker({ clock, manualBackground: true });
    taskId = await openTask(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when the token is live, then the answer carries task_id, client_id and the act chain', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api', ttl: 120 });
    const res = await introspect(t, grant.access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const now = Math.floor(clock.now().getTime() / 1000);
    expect(res.body).toEqual({
      active: true,
      iss: t.broker.tokens.issuer,
      sub: ORCHESTRATOR,
      aud: 'orders-api',
      client_id: AGENT_A,
      scope: 'kv:demo/api-key',
      token_type: 'Bearer',
      jti: grant.grant_id,
      task_id: taskId,
      iat: now,
      exp: now + 120,
      act: { sub: AGENT_A },
    });
  });

  test('when the token is garbage, empty-signed or alg none, then exactly {active:false}', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const [header, payload] = grant.access_token.split('.');
    const candidates = [
      'garbage',
      'a.b.c',
      `${header}.${payload}.`,
      `${b64url({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
      `${header}.${b64url({ ...decodeJwt(grant.access_token), scope: 'tool:demo:deploy' })}.${grant.access_token.split('.')[2]}`,
    ];
    for (const token of candidates) {
      const res = await introspect(t, token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  test("when the token is signed by another issuer's key, even with our kid and claims, then exactly {active:false}", async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    const { privateKey } = await generateKeyPair('ES256');
    const kid = decodeProtectedHeader(grant.access_token).kid!;
    const claims = decodeJwt(grant.access_token);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey);
    expect((await introspect(t, forged)).body).toEqual({ active: false });
    const otherIssuer = await new SignJWT({ ...claims, iss: 'https://evil.example' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'evil' })
      .sign(privateKey);
    expect((await introspect(t, otherIssuer)).body).toEqual({ active: false });
  });

  test('when the token expired, then exactly {active:false}', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { ttl: 30 });
    expect((await introspect(t, grant.access_token)).body.active).toBe(true);
    clock.advance(31_000);
    expect((await introspect(t, grant.access_token)).body).toEqual({ active: false });
  });

  test('when an agent or an orchestrator introspects, then 403 access_denied; without a token, then 400', async () => {
    const grant = await grantOk(t, taskId, ['kv:demo/api-key']);
    for (const who of [AGENT_A, ORCHESTRATOR]) {
      const res = await introspect(t, grant.access_token, who);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('access_denied');
      expect(res.body).not.toHaveProperty('active');
    }
    const missing = await t.call('POST', '/oauth2/introspect', { as: RESOURCE, form: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const unauthenticated = await t.call('POST', '/oauth2/introspect', {
      form: { token: grant.access_token },
    });
    expect(unauthenticated.status).toBe(401);
  });
});
