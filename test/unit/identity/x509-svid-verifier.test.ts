import { createHash } from 'node:crypto';
import { parseTrustBundle, type TrustBundle } from '../../../server/identity/trust-bundle';
import { x509 } from '../../../server/identity/x509-lib';
import { verifyX509Svid } from '../../../server/identity/x509-svid-verifier';
import { ManualClock } from '../../../server/shared/clock';
import { Unauthenticated } from '../../../server/shared/errors';
import { bundleJson, createCa, issueCert, issueIntermediate, type TestCa } from './support/pki';

const A = 'a.example';
const B = 'b.example';
const ID = `spiffe://${A}/agent/one`;
const HOUR = 3_600_000;

describe('verifyX509Svid', () => {
  let caA: TestCa;
  let caB: TestCa;
  let bundles: Map<string, TrustBundle>;
  const clock = new ManualClock(Date.now());

  const verify = (chain: Buffer[]) => verifyX509Svid(chain, { bundleFor: (td) => bundles.get(td), clock });
  const reasonOf = (chain: Buffer[]): string | undefined => {
    try {
      verify(chain);
      return undefined;
    } catch (err) {
      if (err instanceof Unauthenticated) return err.reason;
      throw err;
    }
  };

  beforeAll(async () => {
    caA = await createCa(A);
    caB = await createCa(B);
    bundles = new Map([
      [A, parseTrustBundle(bundleJson({ cas: [caA] }), A).bundle],
      [B, parseTrustBundle(bundleJson({ cas: [caB] }), B).bundle],
    ]);
  });

  beforeEach(() => clock.set(Date.now()));

  it('when the leaf is issued by its trust domain CA, then it returns the principal with the x5t#S256', async () => {
    const leaf = await issueCert(caA, { uris: [ID], dns: ['agent.local'] });
    expect(verify([leaf.der])).toEqual({
      spiffeId: ID,
      trustDomain: A,
      path: '/agent/one',
      via: 'x509-svid',
      certThumbprint: createHash('sha256').update(leaf.der).digest('base64url'),
    });
  });

  it('when the leaf comes through a presented intermediate, then it is accepted', async () => {
    const intermediate = await issueIntermediate(caA);
    const leaf = await issueCert(intermediate, { uris: [ID] });
    expect(reasonOf([leaf.der, Buffer.from(intermediate.cert.rawData)])).toBeUndefined();
  });

  it('when the client also sends the root, then it is accepted', async () => {
    const leaf = await issueCert(caA, { uris: [ID] });
    expect(reasonOf([leaf.der, Buffer.from(caA.cert.rawData)])).toBeUndefined();
  });

  it('when the intermediate is not presented, then the chain is untrusted', async () => {
    const intermediate = await issueIntermediate(caA);
    const leaf = await issueCert(intermediate, { uris: [ID] });
    expect(reasonOf([leaf.der])).toBe('cert_untrusted_chain');
  });

  it('when the "intermediate" is not a CA, then the chain is untrusted', async () => {
    const notCa = await issueCert(caA, { uris: [`spiffe://${A}/not-a-ca`] });
    const leaf = await issueCert(notCa.ca, { uris: [ID] });
    expect(reasonOf([leaf.der, notCa.der])).toBe('cert_untrusted_chain');
  });

  it('when trust domain B issues an ID of trust domain A, then the chain is untrusted', async () => {
    const leaf = await issueCert(caB, { uris: [ID] });
    expect(reasonOf([leaf.der])).toBe('cert_untrusted_chain');
    expect(reasonOf([leaf.der, Buffer.from(caB.cert.rawData)])).toBe('cert_untrusted_chain');
  });

  it('when the ID trust domain has no bundle, then it is rejected', async () => {
    const leaf = await issueCert(caA, { uris: ['spiffe://c.example/agent'] });
    expect(reasonOf([leaf.der])).toBe('cert_unknown_trust_domain');
  });

  it.each<[string, () => Promise<Buffer>, string]>([
    [
      'a CA certificate as leaf',
      async () => (await issueCert(caA, { uris: [ID], ca: true })).der,
      'cert_leaf_is_ca',
    ],
    [
      'keyCertSign on a non-CA leaf',
      async () =>
        (
          await issueCert(caA, {
            uris: [ID],
            keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
          })
        ).der,
      'cert_key_usage',
    ],
    [
      'cRLSign on a non-CA leaf',
      async () =>
        (
          await issueCert(caA, {
            uris: [ID],
            keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.cRLSign,
          })
        ).der,
      'cert_key_usage',
    ],
    [
      'no key usage',
      async () => (await issueCert(caA, { uris: [ID], keyUsage: null })).der,
      'cert_key_usage',
    ],
    [
      'key usage without digitalSignature',
      async () => (await issueCert(caA, { uris: [ID], keyUsage: x509.KeyUsageFlags.keyEncipherment })).der,
      'cert_key_usage',
    ],
    ['no URI SAN', async () => (await issueCert(caA, { dns: ['agent.local'] })).der, 'cert_no_uri_san'],
    [
      'two URI SANs',
      async () => (await issueCert(caA, { uris: [ID, `spiffe://${A}/agent/two`] })).der,
      'cert_multiple_uri_sans',
    ],
    [
      'a non-SPIFFE URI SAN',
      async () => (await issueCert(caA, { uris: ['https://a.example/agent'] })).der,
      'cert_invalid_spiffe_id',
    ],
    [
      'a SPIFFE ID without a path',
      async () => (await issueCert(caA, { uris: [`spiffe://${A}`] })).der,
      'cert_invalid_spiffe_id',
    ],
    [
      'a dot segment in the SPIFFE ID',
      async () => (await issueCert(caA, { uris: [`spiffe://${A}/x/../admin`] })).der,
      'cert_invalid_spiffe_id',
    ],
    [
      'an expired leaf',
      async () =>
        (
          await issueCert(caA, {
            uris: [ID],
            notBefore: new Date(Date.now() - 3 * HOUR),
            notAfter: new Date(Date.now() - HOUR),
          })
        ).der,
      'cert_expired',
    ],
    [
      'a leaf not valid yet',
      async () => (await issueCert(caA, { uris: [ID], notBefore: new Date(Date.now() + HOUR) })).der,
      'cert_not_yet_valid',
    ],
  ])('when the leaf has %s, then it is rejected', async (_case, make, reason) => {
    expect(reasonOf([await make()])).toBe(reason);
  });

  it('when the presented intermediate has expired, then the chain is untrusted', async () => {
    const intermediate = await issueIntermediate(caA, { notAfter: new Date(Date.now() + HOUR) });
    const leaf = await issueCert(intermediate, { uris: [ID], notAfter: new Date(Date.now() + 3 * HOUR) });
    clock.set(Date.now() + 2 * HOUR);
    expect(reasonOf([leaf.der, Buffer.from(intermediate.cert.rawData)])).toBe('cert_untrusted_chain');
  });

  it('when the bundle CA has expired, then the chain is untrusted', async () => {
    const shortCa = await createCa(A, { notAfter: new Date(Date.now() + HOUR) });
    bundles.set('short.example', parseTrustBundle(bundleJson({ cas: [shortCa] }), 'short.example').bundle);
    const leaf = await issueCert(shortCa, {
      uris: ['spiffe://short.example/w'],
      notAfter: new Date(Date.now() + 3 * HOUR),
    });
    clock.set(Date.now() + 2 * HOUR);
    expect(reasonOf([leaf.der])).toBe('cert_untrusted_chain');
  });

  it('when the chain is empty, not DER, or too long, then it is rejected with a precise reason', async () => {
    const leaf = await issueCert(caA, { uris: [ID] });
    expect(reasonOf([])).toBe('missing_credential');
    expect(reasonOf([Buffer.from('not a certificate')])).toBe('cert_malformed');
    expect(reasonOf(Array.from({ length: 11 }, () => leaf.der))).toBe('cert_chain_too_long');
  });
});
