import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { BundleError } from '../../../server/identity/identity.errors';
import { parseTrustBundle } from '../../../server/identity/trust-bundle';
import { bundleJson, createCa, createJwtKey, type TestCa, type TestJwtKey } from './support/pki';

describe('parseTrustBundle', () => {
  let key: TestJwtKey;
  let ca: TestCa;
  let otherCa: TestCa;

  beforeAll(async () => {
    key = await createJwtKey('ES256', 'key-1');
    ca = await createCa('example.org');
    otherCa = await createCa('other.example');
  });

  it('when given a SPIFFE bundle, then it keeps the jwt-svid keys by kid and the x509 authorities', () => {
    const { bundle, warnings } = parseTrustBundle(
      bundleJson({ jwtKeys: [key], cas: [ca], sequence: 7, refreshHint: 60 }),
      'example.org',
    );
    expect(warnings).toEqual([]);
    expect([...bundle.jwtKeyIds]).toEqual(['key-1']);
    expect(bundle.x509Authorities.map((c) => c.fingerprint256)).toHaveLength(1);
    expect(bundle).toMatchObject({
      trustDomain: 'example.org',
      sequence: 7n,
      refreshHintSeconds: 60,
      empty: false,
    });
  });

  it('when entries have no use or an unknown use, then they are ignored with a warning', () => {
    const { bundle, warnings } = parseTrustBundle(
      bundleJson({
        jwtKeys: [key],
        extra: [
          { ...key.publicJwk, kid: 'no-use' },
          { ...key.publicJwk, kid: 'sig-use', use: 'sig' },
          { ...key.publicJwk, kid: 'upper', use: 'JWT-SVID' },
        ],
      }),
      'example.org',
    );
    expect([...bundle.jwtKeyIds]).toEqual(['key-1']);
    expect(warnings).toHaveLength(3);
  });

  it('when a jwt-svid key has no kid, then it is ignored', () => {
    const { publicJwk } = key;
    const { bundle, warnings } = parseTrustBundle(
      JSON.stringify({ keys: [{ ...publicJwk, use: 'jwt-svid' }], spiffe_sequence: 1 }),
      'example.org',
    );
    expect(bundle.jwtKeyIds.size).toBe(0);
    expect(bundle.empty).toBe(true);
    expect(warnings).toEqual(['jwt-svid key without kid']);
  });

  it('when an x509-svid entry has several x5c certificates, then only the first is an authority', () => {
    const der = (c: TestCa) => Buffer.from(c.cert.rawData).toString('base64');
    const { bundle } = parseTrustBundle(
      JSON.stringify({ keys: [{ kty: 'EC', use: 'x509-svid', x5c: [der(ca), der(otherCa)] }] }),
      'example.org',
    );
    expect(bundle.x509Authorities).toHaveLength(1);
    expect(bundle.x509Authorities[0]!.raw.equals(Buffer.from(ca.cert.rawData))).toBe(true);
  });

  it('when an x509-svid entry has no x5c or garbage in it, then it is ignored', () => {
    const { bundle, warnings } = parseTrustBundle(
      JSON.stringify({
        keys: [
          { kty: 'EC', use: 'x509-svid' },
          { kty: 'EC', use: 'x509-svid', x5c: ['bm90IGEgY2VydA=='] },
        ],
      }),
      'example.org',
    );
    expect(bundle.empty).toBe(true);
    expect(warnings).toHaveLength(2);
  });

  it('when keys is empty, then the bundle is empty (every SVID of the domain is invalid)', () => {
    expect(parseTrustBundle('{"keys":[]}', 'example.org').bundle.empty).toBe(true);
  });

  it('when the document has no SPIFFE members and no use values, then its keys are JWT-SVID keys (OIDC /keys)', async () => {
    const rsa = await createJwtKey('RS256', 'rsa-1');
    const { bundle } = parseTrustBundle(
      JSON.stringify({
        keys: [
          { ...key.publicJwk, kid: 'k1', alg: 'ES256' },
          { ...rsa.publicJwk, kid: 'k2', use: 'sig' },
        ],
      }),
      'example.org',
    );
    expect([...bundle.jwtKeyIds].sort()).toEqual(['k1', 'k2']);
  });

  it('when a key is an EdDSA, HMAC or secp256k1 key, then it is ignored', async () => {
    const ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    const { bundle, warnings } = parseTrustBundle(
      bundleJson({
        extra: [
          { ...ed, kid: 'ed', use: 'jwt-svid' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', use: 'jwt-svid' },
          { ...key.publicJwk, crv: 'secp256k1', kid: 'k1', use: 'jwt-svid' },
        ],
      }),
      'example.org',
    );
    expect(bundle.jwtKeyIds.size).toBe(0);
    expect(warnings).toHaveLength(3);
  });

  it('when an RSA key is shorter than 2048 bits, then it is ignored', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const { warnings, bundle } = parseTrustBundle(
      bundleJson({ extra: [{ ...publicKey.export({ format: 'jwk' }), kid: 'weak', use: 'jwt-svid' }] }),
      'example.org',
    );
    expect(bundle.jwtKeyIds.size).toBe(0);
    expect(warnings[0]).toContain('2048');
  });

  it('when a key point is not on its curve, then it is ignored instead of failing at verification time', () => {
    const broken = {
      ...key.publicJwk,
      x: Buffer.alloc(32, 1).toString('base64url'),
      kid: 'bad',
      use: 'jwt-svid',
    };
    const { bundle } = parseTrustBundle(bundleJson({ extra: [broken] }), 'example.org');
    expect(bundle.jwtKeyIds.size).toBe(0);
  });

  it.each([
    ['not JSON', '{keys: ['],
    ['not an object', '[]'],
    ['without keys', '{"spiffe_sequence": 1}'],
    ['with a non-integer sequence', '{"keys": [], "spiffe_sequence": "1"}'],
    ['with a negative refresh hint', '{"keys": [], "spiffe_refresh_hint": -5}'],
  ])('when the document is %s, then it is rejected', (_case, text) => {
    expect(() => parseTrustBundle(text, 'example.org')).toThrow(BundleError);
  });

  it('when two jwt-svid keys share a kid, then the bundle is rejected', async () => {
    const twin = await createJwtKey('ES256', 'key-1');
    expect(() => parseTrustBundle(bundleJson({ jwtKeys: [key, twin] }), 'example.org')).toThrow(/duplicate/);
  });

  it('when a jwt-svid key carries private key material, then the bundle is rejected', async () => {
    const jwk = await exportJWK(key.privateKey);
    expect(() =>
      parseTrustBundle(bundleJson({ extra: [{ ...jwk, kid: 'leak', use: 'jwt-svid' }] }), 'example.org'),
    ).toThrow(/private/);
  });
});
