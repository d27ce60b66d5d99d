import { createJwtSvidVerifier } from '../../../server/identity/jwt-svid-verifier';
import { parseTrustBundle, type TrustBundle } from '../../../server/identity/trust-bundle';
import { x509 } from '../../../server/identity/x509-lib';
import { verifyX509Svid } from '../../../server/identity/x509-svid-verifier';
import { ManualClock } from '../../../server/shared/clock';
import { Unauthenticated } from '../../../server/shared/errors';
import {
  bundleJson,
  createCa,
  createJwtKey,
  issueCert,
  issueIntermediate,
  signJwt,
  svidClaims,
  type TestCa,
  type TestJwtKey,
} from './support/pki';

const TD = 'example.org';
const SUB = `spiffe://${TD}/agent/a`;

async function reasonOf(run: () => unknown): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    if (err instanceof Unauthenticated) return err.reason;
    throw err;
  }
}

describe('JWT-SVIDs with several audiences (identity-standards §2: replayable between them)', () => {
  let key: TestJwtKey;
  let bundle: TrustBundle;
  const verifier = (allowMultiAudience: boolean) =>
    createJwtSvidVerifier({
      audience: 'grantline',
      leewaySeconds: 30,
      maxLifetimeSeconds: 3600,
      bundleFor: (td) => (td === TD ? bundle : undefined),
      clock: new ManualClock(Date.now()),
      allowMultiAudience,
    });

  beforeAll(async () => {
    key = await createJwtKey('ES256', 'k');
    bundle = parseTrustBundle(bundleJson({ jwtKeys: [key] }), TD).bundle;
  });

  it('when aud names us and another service, then it is refused unless allowed by configuration', async () => {
    const token = await signJwt(key, svidClaims(SUB, ['grantline', 'billing-api']));
    expect(await reasonOf(() => verifier(false)(token))).toBe('multiple_audiences');
    expect(await reasonOf(() => verifier(true)(token))).toBeUndefined();
  });

  it('when aud is one value (array or string), then it is accepted', async () => {
    expect(
      await reasonOf(async () => verifier(false)(await signJwt(key, svidClaims(SUB, ['grantline'])))),
    ).toBe(undefined);
    const single = { ...svidClaims(SUB, 'grantline'), aud: 'grantline' };
    expect(await reasonOf(async () => verifier(false)(await signJwt(key, single)))).toBeUndefined();
  });
});

describe('X.509 intermediates (X509-SVID §4.2: signing certificates carry keyCertSign; RFC 5280 §4.2.1.9)', () => {
  const ID = `spiffe://${TD}/agent/x`;
  const clock = new ManualClock(Date.now());
  const der = (ca: TestCa) => Buffer.from(ca.cert.rawData);
  const verifyWith = (root: TestCa, chain: Buffer[]) =>
    reasonOf(() =>
      verifyX509Svid(chain, {
        bundleFor: (td) => (td === TD ? parseTrustBundle(bundleJson({ cas: [root] }), TD).bundle : undefined),
        clock,
      }),
    );

  let root: TestCa;
  beforeAll(async () => {
    root = await createCa(TD);
  });

  it('when an intermediate lacks keyCertSign, then the chain is refused', async () => {
    const noSign = await issueIntermediate(root, { keyUsage: x509.KeyUsageFlags.digitalSignature });
    const leaf = await issueCert(noSign, { uris: [ID] });
    expect(await verifyWith(root, [leaf.der, der(noSign)])).toBe('cert_intermediate_key_usage');
    const noUsage = await issueIntermediate(root, { keyUsage: null });
    const leaf2 = await issueCert(noUsage, { uris: [ID] });
    expect(await verifyWith(root, [leaf2.der, der(noUsage)])).toBe('cert_intermediate_key_usage');
  });

  it('when an intermediate with pathLen 0 has another intermediate below it, then the chain is refused', async () => {
    const upper = await issueIntermediate(root, { pathLength: 0 });
    const lower = await issueIntermediate(upper);
    const leaf = await issueCert(lower, { uris: [ID] });
    expect(await verifyWith(root, [leaf.der, der(lower), der(upper)])).toBe('cert_path_length');
  });

  it('when the authority itself allows no intermediate (pathLen 0), then a chain through one is refused', async () => {
    const strictRoot = await createCa(TD, { pathLength: 0 });
    const mid = await issueIntermediate(strictRoot);
    const leaf = await issueCert(mid, { uris: [ID] });
    expect(await verifyWith(strictRoot, [leaf.der, der(mid)])).toBe('cert_path_length');
    const direct = await issueCert(strictRoot, { uris: [ID] });
    expect(await verifyWith(strictRoot, [direct.der])).toBeUndefined();
  });

  it('when every pathLen holds, then the chain is accepted', async () => {
    const upper = await issueIntermediate(root, { pathLength: 1 });
    const lower = await issueIntermediate(upper, { pathLength: 0 });
    const leaf = await issueCert(lower, { uris: [ID] });
    expect(await verifyWith(root, [leaf.der, der(lower), der(upper)])).toBeUndefined();
  });
});
