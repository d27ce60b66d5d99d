import { createJwtSvidVerifier } from '../../../server/identity/jwt-svid-verifier';
import { parseTrustBundle, type TrustBundle } from '../../../server/identity/trust-bundle';
import { createVerifiedSvids } from '../../../server/identity/verified-svids';
import { ManualClock } from '../../../server/shared/clock';
import { Unauthenticated } from '../../../server/shared/errors';
import { bundleJson, createJwtKey, signJwt, svidClaims, type TestJwtKey } from './support/pki';

const TD = 'example.org';
const SUB = 'spiffe://example.org/agent/a';
const AUD = 'grantline';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

/** An SVID verified once is remembered, but never beyond its time claims or the bundle that verified it. */
describe('JWT-SVIDs already verified', () => {
  let es: TestJwtKey;
  let other: TestJwtKey;
  let bundles: Map<string, TrustBundle>;
  let clock: ManualClock;
  let verify: (token: string) => Promise<unknown>;

  const reasonOf = (token: string): Promise<string | undefined> =>
    verify(token).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof Unauthenticated) return err.reason;
        throw err;
      },
    );
  const bundleOf = (...keys: TestJwtKey[]) => parseTrustBundle(bundleJson({ jwtKeys: keys }), TD).bundle;

  beforeAll(async () => {
    es = await createJwtKey('ES256', 'es');
    other = await createJwtKey('ES256', 'other');
  });

  beforeEach(() => {
    clock = new ManualClock(NOW);
    bundles = new Map([[TD, bundleOf(es)]]);
    verify = createJwtSvidVerifier({
      audience: AUD,
      leewaySeconds: 30,
      maxLifetimeSeconds: 3600,
      bundleFor: (td) => bundles.get(td),
      clock,
    });
  });

  it('when the same SVID comes again, then it is accepted again, and a caller altering its answer changes nothing', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW));
    const first = (await verify(token)) as { spiffeId: string };
    first.spiffeId = 'spiffe://example.org/forged';
    await expect(verify(token)).resolves.toMatchObject({ spiffeId: SUB, via: 'jwt-svid' });
  });

  it('when a remembered SVID expires, then it is refused as expired', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW));
    expect(await reasonOf(token)).toBeUndefined();
    clock.advance(300_000 + 31_000);
    expect(await reasonOf(token)).toBe('expired');
  });

  it('when the trust domain rotates its key out, then a remembered SVID signed by it is refused', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW));
    expect(await reasonOf(token)).toBeUndefined();
    bundles.set(TD, bundleOf(other));
    expect(await reasonOf(token)).toBe('unknown_kid');
  });

  it('when the trust domain is no longer trusted, then a remembered SVID is refused', async () => {
    const token = await signJwt(es, svidClaims(SUB, AUD, NOW));
    expect(await reasonOf(token)).toBeUndefined();
    bundles.delete(TD);
    expect(await reasonOf(token)).toBe('unknown_trust_domain');
  });

  it('when the memory is full, then the oldest SVID goes first', () => {
    const svids = createVerifiedSvids(2);
    const entry = {
      principal: { spiffeId: SUB, trustDomain: TD, path: '/agent/a', via: 'jwt-svid' as const },
    };
    const v = { ...entry, payload: {}, bundle: bundleOf(es) };
    svids.set('a', v);
    svids.set('b', v);
    svids.set('c', v);
    expect(svids.size).toBe(2);
    expect(svids.get('a')).toBeUndefined();
    expect(svids.get('c')).toBe(v);
  });
});
