import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  DEV_TRUST_DOMAIN,
  initDevTrustDomain,
  issueDevX509Svid,
  mintDevJwtSvid,
} from '../../../server/dev/identity/dev-trust-domain';
import { parseTrustBundle } from '../../../server/identity/trust-bundle';
import { x509 } from '../../../server/identity/x509-lib';
import { verifyX509Svid } from '../../../server/identity/x509-svid-verifier';
import { systemClock } from '../../../server/shared/clock';

describe('dev trust domain', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'grantline-dev-id-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('when initialised, then it writes private keys 0600 and a SPIFFE bundle with a jwt-svid and an x509-svid key', async () => {
    const domain = await initDevTrustDomain(home);
    expect(domain).toEqual({
      dir: path.join(home, 'dev-identity'),
      trustDomain: DEV_TRUST_DOMAIN,
      bundlePath: path.join(home, 'dev-identity', 'bundle.json'),
    });
    for (const file of ['jwt-signing-key.json', 'x509-ca.json']) {
      expect((await stat(path.join(domain.dir, file))).mode & 0o777).toBe(0o600);
    }
    const doc = JSON.parse(await readFile(domain.bundlePath, 'utf8'));
    expect(doc.keys.map((k: { use: string }) => k.use)).toEqual(['jwt-svid', 'x509-svid']);
    expect(doc.keys[0].d).toBeUndefined();
    expect(typeof doc.keys[0].kid).toBe('string');
    const { bundle, warnings } = parseTrustBundle(JSON.stringify(doc), DEV_TRUST_DOMAIN);
    expect(warnings).toEqual([]);
    expect(bundle.jwtKeyIds.size).toBe(1);
  });

  it('when the CA is inspected, then it is a P-256 CA with keyCertSign+cRLSign and the trust domain URI SAN', async () => {
    const domain = await initDevTrustDomain(home);
    const doc = JSON.parse(await readFile(domain.bundlePath, 'utf8'));
    const ca = new x509.X509Certificate(Buffer.from(doc.keys[1].x5c[0], 'base64'));
    expect(ca.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(ca.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
    const sans = ca.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value);
    expect(sans).toEqual([`spiffe://${DEV_TRUST_DOMAIN}`]);
    expect(new X509Certificate(Buffer.from(ca.rawData)).publicKey.asymmetricKeyDetails?.namedCurve).toBe(
      'prime256v1',
    );
  });

  it('when initialised twice (even concurrently), then the same keys are reused', async () => {
    const [first] = await Promise.all([initDevTrustDomain(home), initDevTrustDomain(home)]);
    const before = await readFile(first.bundlePath, 'utf8');
    await initDevTrustDomain(home);
    expect(await readFile(first.bundlePath, 'utf8')).toBe(before);
  });

  it('when a JWT-SVID is minted, then it is shaped like SPIRE issues it', async () => {
    const token = await mintDevJwtSvid({
      home,
      spiffeId: 'spiffe://dev.grantline.local/agent/a',
      audience: 'grantline',
      ttlSeconds: 300,
    });
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(typeof header.kid).toBe('string');
    expect(claims).toMatchObject({ sub: 'spiffe://dev.grantline.local/agent/a', aud: ['grantline'] });
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('when asked for an SVID outside the dev trust domain or without a path, then it refuses', async () => {
    await expect(
      mintDevJwtSvid({ home, spiffeId: 'spiffe://prod.example/agent', audience: 'a', ttlSeconds: 60 }),
    ).rejects.toThrow(/dev trust domain/);
    await expect(issueDevX509Svid({ home, spiffeId: 'spiffe://dev.grantline.local' })).rejects.toThrow(
      /path/,
    );
  });

  it('when an X509-SVID is issued, then it verifies against the dev bundle', async () => {
    const svid = await issueDevX509Svid({
      home,
      spiffeId: 'spiffe://dev.grantline.local/agent/x',
      ttlSeconds: 600,
    });
    const domain = await initDevTrustDomain(home);
    const { bundle } = parseTrustBundle(await readFile(domain.bundlePath, 'utf8'), DEV_TRUST_DOMAIN);
    const der = new X509Certificate(svid.certPem).raw;
    const principal = verifyX509Svid([der], {
      bundleFor: (td) => (td === DEV_TRUST_DOMAIN ? bundle : undefined),
      clock: systemClock,
    });
    expect(principal.spiffeId).toBe('spiffe://dev.grantline.local/agent/x');
    expect(new X509Certificate(svid.bundlePem).ca).toBe(true);
    expect(svid.keyPem).toContain('BEGIN PRIVATE KEY');
  });
});
