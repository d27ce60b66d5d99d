import type { JWTPayload } from 'jose';
import { createJwtSvidVerifier } from '../../../server/identity/jwt-svid-verifier';
import { parseTrustBundle, type TrustBundle } from '../../../server/identity/trust-bundle';
import { ManualClock } from '../../../server/shared/clock';
import { Unauthenticated } from '../../../server/shared/errors';
import {
  b64url,
  bundleJson,
  createJwtKey,
  signCompact,
  signJwt,
  svidClaims,
  type TestJwtKey,
} from './support/pki';

const TD = 'example.org';
const SUB = 'spiffe://example.org/agent/a';
const AUD = 'grantline';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const nowS = NOW / 1000;

describe('createJwtSvidVerifier', () => {
  let es: TestJwtKey;
  let rsa: TestJwtKey;
  let bundles: Map<string, TrustBundle>;
  let clock: ManualClock;
  let verify: (token: string) => Promise<unknown>;

  const reasonOf = async (token: string): Promise<string | undefined> => {
    try {
      await verify(token);
      return undefined;
    } catch (err) {
      if (err instanceof Unauthenticated) return err.reason;
      throw err;
    }
  };

  beforeAll(async () => {
    es = await createJwtKey('ES256', 'es');
    rsa = await createJwtKey('RS256', 'rsa');
  });

  beforeEach(() => {
    clock = new ManualClock(NOW);
    const { bundle } = parseTrustBundle(bundleJson({ jwtKeys: [es, rsa] }), TD);
    bundles = new Map([[TD, bundle]]);
    verify = createJwtSvidVerifier({
      audience: AUD,
      leewaySeconds: 30,
      maxLifetimeSeconds: 3600,
      bundleFor: (td) => bundles.get(td),
      clock,
    });
  });

  it('when the SVID is valid, then it returns the principal', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW));
    await expect(verify(token)).resolves.toEqual({
      spiffeId: SUB,
      trustDomain: TD,
      path: '/agent/a',
      via: 'jwt-svid',
    });
  });

  it.each(['RS256', 'RS512', 'PS256', 'PS384'])(
    'when an RSA key signs with %s, then it is accepted',
    async (alg) => {
      const token = signCompact(rsa, svidClaims(SUB, AUD, NOW), { alg, kid: 'rsa', typ: 'JWT' });
      expect(await reasonOf(token)).toBeUndefined();
    },
  );

  it('when an unknown crit extension is present, then the token is malformed', async () => {
    const header = { alg: 'ES256', kid: 'es', crit: ['x-custom'], 'x-custom': 1 };
    expect(await reasonOf(signCompact(es, svidClaims(SUB, AUD, NOW), header))).toBe('malformed');
  });

  it.each([
    ['typ JOSE', 'accepted', { typ: 'JOSE' }],
    ['no typ', 'accepted', { typ: undefined }],
    ['typ at+jwt', 'bad_typ', { typ: 'at+jwt' }],
    ['typ jwt (lowercase)', 'bad_typ', { typ: 'jwt' }],
    ['an empty kid', 'missing_kid', { kid: '' }],
  ])('when the header has %s, then the outcome is %s', async (_case, reason, header) => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW), header);
    expect((await reasonOf(token)) ?? 'accepted').toBe(reason);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['expired within the leeway', 'accepted', { exp: nowS - 20 }],
    ['expired beyond the leeway', 'expired', { exp: nowS - 31 }],
    ['nbf within the leeway', 'accepted', { nbf: nowS + 20 }],
    ['nbf beyond the leeway', 'not_yet_valid', { nbf: nowS + 31 }],
    ['an aud string naming us', 'accepted', { aud: AUD }],
    // Refused unless configured (GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE): replayable between its audiences.
    ['several audiences including us', 'multiple_audiences', { aud: ['other', AUD] }],
    ['an empty aud array', 'wrong_audience', { aud: [] }],
    ['a numeric aud', 'wrong_audience', { aud: 7 }],
    ['exp as a string', 'malformed', { exp: String(nowS + 60) }],
    ['no iat and exp within the cap', 'accepted', { iat: undefined, exp: nowS + 3000 }],
    ['no iat and exp beyond the cap', 'lifetime_too_long', { iat: undefined, exp: nowS + 3700 }],
    ['exp - iat just over the cap', 'lifetime_too_long', { iat: nowS - 10, exp: nowS - 10 + 3601 }],
    [
      'iat in the future to dodge the cap',
      'lifetime_too_long',
      { iat: nowS + 86_400, exp: nowS + 86_400 + 60 },
    ],
    ['a sub without a path', 'invalid_spiffe_id', { sub: 'spiffe://example.org' }],
    ['no sub', 'invalid_spiffe_id', { sub: undefined }],
    ['a sub in a trust domain without bundle', 'unknown_trust_domain', { sub: 'spiffe://elsewhere.org/a' }],
  ])('when the claims have %s, then the outcome is %s', async (_case, reason, overrides) => {
    const claims = { ...svidClaims(SUB, AUD, NOW), ...overrides } as JWTPayload;
    expect((await reasonOf(await signJwt(es, claims))) ?? 'accepted').toBe(reason);
  });

  it('when the header names the RSA key but an EC algorithm, then no key matches', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW), { kid: 'rsa' });
    expect(await reasonOf(token)).toBe('unknown_kid');
  });

  it('when the trust domain bundle is empty, then every SVID of it is rejected', async () => {
    bundles.set(TD, parseTrustBundle('{"keys":[]}', TD).bundle);
    expect(await reasonOf(await signJwt(es, svidClaims(SUB, AUD, NOW)))).toBe('unknown_kid');
  });

  it.each([
    ['two parts', () => `${b64url({ alg: 'ES256', kid: 'es' })}.${b64url({ sub: SUB })}`],
    ['JWS JSON serialisation', () => JSON.stringify({ payload: 'x', signatures: [] })],
    ['a JWE (five parts)', () => 'a.b.c.d.e'],
    ['a header that is not JSON', () => `${b64url('not json')}.${b64url({})}.c2ln`],
    ['claims that are not JSON', () => `${b64url({ alg: 'ES256', kid: 'es' })}.${b64url('nope')}.c2ln`],
  ])('when the token is %s, then it is malformed', async (_case, make) => {
    expect(await reasonOf(make())).toBe('malformed');
  });

  it('when rejecting, then the message does not contain the token', async () => {
    const token = await signJwt(es, { ...svidClaims(SUB, AUD, NOW), aud: ['someone-else'] });
    const err = await verify(token).catch((e: unknown) => e as Error);
    expect((err as Error).message).not.toContain(token.split('.')[1]!);
  });
});
