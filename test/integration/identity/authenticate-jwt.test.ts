import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import request from 'supertest';
import { b64url, signCompact, signJwt, svidClaims } from '../../unit/identity/support/pki';
import {
  AUDIENCE,
  authFailureCount,
  createIdentityFixture,
  type IdentityFixture,
} from './support/identity-fixture';

const SUB = 'spiffe://a.example/agent/alpha';

describe('authenticate middleware with JWT-SVIDs over HTTP', () => {
  let fx: IdentityFixture;
  const seenTokens: string[] = [];

  beforeAll(async () => {
    fx = await createIdentityFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  const claims = (overrides: JWTPayload = {}): JWTPayload => ({ ...svidClaims(SUB, AUDIENCE), ...overrides });
  const ours = () => fx.ours.jwtKey;
  const withSub = (sub: string) => () => signJwt(ours(), claims({ sub }));

  async function call(token: string | undefined, scheme = 'Bearer') {
    if (token) seenTokens.push(token);
    const req = request(fx.app).get('/whoami');
    return token === undefined ? req : req.set('Authorization', `${scheme} ${token}`);
  }

  it('when the JWT-SVID is valid, then the handler sees the principal', async () => {
    const res = await call(await signJwt(ours(), claims()));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      spiffeId: SUB,
      trustDomain: 'a.example',
      path: '/agent/alpha',
      via: 'jwt-svid',
    });
  });

  it('when the JWT-SVID comes from the federated trust domain and is signed with its key, then it is accepted', async () => {
    const sub = 'spiffe://b.example/agent/beta';
    const res = await call(await signJwt(fx.federated.jwtKey, claims({ sub })));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ spiffeId: sub, trustDomain: 'b.example' });
  });

  const cases: Array<[string, string, () => Promise<string> | string]> = [
    [
      'alg none',
      'alg_not_allowed',
      () => `${b64url({ alg: 'none', kid: ours().kid, typ: 'JWT' })}.${b64url(claims())}.`,
    ],
    [
      'HS256 keyed with the bundle public key bytes',
      'alg_not_allowed',
      () => {
        // The classic algorithm-confusion attack: the verifier's public key PEM used as an HMAC secret.
        const publicPem = createPublicKey({ key: ours().publicJwk as JsonWebKey, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: ours().kid, typ: 'JWT' })
          .sign(Buffer.from(publicPem));
      },
    ],
    [
      'EdDSA',
      'alg_not_allowed',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA', kid: ours().kid }).sign(privateKey);
      },
    ],
    ['no kid', 'missing_kid', () => signJwt(ours(), claims(), { kid: undefined })],
    ['an unknown kid', 'unknown_kid', () => signJwt(ours(), claims(), { kid: 'not-in-bundle' })],
    [
      "trust domain B's key signing a sub of trust domain A",
      'unknown_kid',
      () => signJwt(fx.federated.jwtKey, claims()),
    ],
    [
      "trust domain B's key reusing A's kid for a sub of A",
      'bad_signature',
      () => signJwt(fx.federated.jwtKey, claims(), { kid: ours().kid }),
    ],
    ['no exp', 'missing_exp', () => signJwt(ours(), claims({ exp: undefined }))],
    ['a past exp', 'expired', () => signJwt(ours(), claims({ exp: Math.floor(Date.now() / 1000) - 120 }))],
    [
      'a future nbf',
      'not_yet_valid',
      () => signJwt(ours(), claims({ nbf: Math.floor(Date.now() / 1000) + 120 })),
    ],
    ['no aud', 'missing_aud', () => signJwt(ours(), claims({ aud: undefined }))],
    ['a wrong aud', 'wrong_audience', () => signJwt(ours(), claims({ aud: ['someone-else'] }))],
    ['a typ other than JWT/JOSE', 'bad_typ', () => signJwt(ours(), claims(), { typ: 'wit+jwt' })],
    ['a sub that is not a SPIFFE ID', 'invalid_spiffe_id', withSub('agent-alpha')],
    ['a sub with an uppercase trust domain', 'invalid_spiffe_id', withSub('spiffe://A.example/agent/alpha')],
    ['a sub with a port', 'invalid_spiffe_id', withSub('spiffe://a.example:443/agent/alpha')],
    ['a sub with userinfo', 'invalid_spiffe_id', withSub('spiffe://evil@a.example/agent/alpha')],
    ['a sub with a query', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/alpha?admin=1')],
    ['a sub with a fragment', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/alpha#x')],
    ['a sub with an empty segment', 'invalid_spiffe_id', withSub('spiffe://a.example/agent//alpha')],
    ['a sub with a . segment', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/./alpha')],
    ['a sub with a .. segment', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/../admin')],
    ['a sub with a trailing slash', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/alpha/')],
    ['a sub with percent-encoding', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/%61lpha')],
    ['a sub with bad characters', 'invalid_spiffe_id', withSub('spiffe://a.example/agent/al pha!')],
    ['a sub over 2048 bytes', 'invalid_spiffe_id', withSub(`spiffe://a.example/${'x'.repeat(2050)}`)],
    ['a sub of a trust domain we do not trust', 'unknown_trust_domain', withSub('spiffe://c.example/agent')],
    [
      'a lifetime over the cap',
      'lifetime_too_long',
      () => signJwt(ours(), claims({ exp: Math.floor(Date.now() / 1000) + 7200 })),
    ],
    [
      'a tampered payload',
      'bad_signature',
      async () => {
        const [header, , signature] = (await signJwt(ours(), claims())).split('.');
        return `${header}.${b64url(claims({ sub: 'spiffe://a.example/admin' }))}.${signature}`;
      },
    ],
    ['an oversize token', 'token_too_large', () => signJwt(ours(), claims({ padding: 'p'.repeat(9000) }))],
    [
      'a JWS in JSON serialisation',
      'malformed',
      () => b64url({ protected: b64url({ alg: 'ES256' }), payload: b64url(claims()), signature: 'x' }),
    ],
    [
      'ES384 naming a P-256 key',
      'unknown_kid',
      () => signCompact(ours(), claims(), { alg: 'ES384', kid: ours().kid, typ: 'JWT' }),
    ],
  ];

  it.each(cases)(
    'when the JWT-SVID has %s, then 401 %s and the handler never runs',
    async (_case, reason, make) => {
      const before = fx.handlerRuns();
      const token = await make();
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: expect.any(String), reason });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="grantline", error="invalid_token"/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toContain(token.slice(0, 40));
      expect(fx.handlerRuns()).toBe(before);
      expect(await authFailureCount(fx.metrics, reason)).toBeGreaterThan(0);
    },
  );

  it.each([
    ['no Authorization header', undefined, 'Bearer', 'missing_credential'],
    ['a Basic credential', 'dXNlcjpwYXNz', 'Basic', 'malformed'],
    ['a Bearer scheme with junk', 'not a token', 'Bearer', 'malformed'],
  ])('when the request has %s, then 401 and the handler never runs', async (_case, token, scheme, reason) => {
    const before = fx.handlerRuns();
    const res = await call(token, scheme);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe(reason);
    expect(fx.handlerRuns()).toBe(before);
  });

  it('when a request had no credential, then the failure is counted with via=none', async () => {
    await call(undefined);
    expect(await authFailureCount(fx.metrics, 'missing_credential', 'none')).toBeGreaterThan(0);
  });

  it('when all those requests were logged, then no token (or its payload) appears in the log', () => {
    const text = fx.log.text();
    expect(text).toContain('authentication failed');
    for (const token of seenTokens) {
      for (const part of token.split('.').filter((p) => p.length > 20)) expect(text).not.toContain(part);
    }
  });
});
