import { constants, KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { x509 } from '../../../../server/identity/x509-lib';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const crypto = webcrypto;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const HOUR = 3_600_000;

export interface TestCa {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  pem: string;
}

export interface TestJwtKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TestTrustDomain {
  name: string;
  jwtKey: TestJwtKey;
  ca: TestCa;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
  der: Buffer;
}

const serial = () => {
  const bytes = randomBytes(12);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
};

export async function createJwtKey(alg: 'ES256' | 'RS256' = 'ES256', kid?: string): Promise<TestJwtKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { kid: kid ?? (await calculateJwkThumbprint(publicJwk)), alg, privateKey, publicJwk };
}

export async function createCa(
  name: string,
  opts: { notAfter?: Date; pathLength?: number } = {},
): Promise<TestCa> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${name} test CA`,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: opts.notAfter ?? new Date(Date.now() + 24 * HOUR),
      keys,
      signingAlgorithm: EC_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, opts.pathLength, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${name}` }]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, keys, pem: cert.toString('pem') };
}

export async function createTrustDomain(name: string): Promise<TestTrustDomain> {
  return { name, jwtKey: await createJwtKey(), ca: await createCa(name) };
}

/** A SPIFFE bundle document for a trust domain (or with explicit JWT keys / CAs). */
export function bundleJson(
  parts: {
    jwtKeys?: TestJwtKey[];
    cas?: TestCa[];
    sequence?: number;
    refreshHint?: number;
    extra?: object[];
  } = {},
): string {
  const keys: object[] = [
    ...(parts.jwtKeys ?? []).map((k) => ({ ...k.publicJwk, kid: k.kid, use: 'jwt-svid' })),
    ...(parts.cas ?? []).map((ca) => ({
      kty: 'EC',
      use: 'x509-svid',
      x5c: [Buffer.from(ca.cert.rawData).toString('base64')],
    })),
    ...(parts.extra ?? []),
  ];
  return JSON.stringify({
    keys,
    ...(parts.sequence === undefined ? {} : { spiffe_sequence: parts.sequence }),
    ...(parts.refreshHint === undefined ? {} : { spiffe_refresh_hint: parts.refreshHint }),
  });
}

export const trustDomainBundle = (td: TestTrustDomain, sequence = 1): string =>
  bundleJson({ jwtKeys: [td.jwtKey], cas: [td.ca], sequence });

/** Signs a JWT-SVID; `header` overrides the protected header, `claims` are taken verbatim. */
export async function signJwt(key: TestJwtKey, claims: JWTPayload, header: Record<string, unknown> = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header } as { alg: string })
    .sign(key.privateKey);
}

/**
 * Builds a compact JWS by hand, for headers jose refuses to produce (unknown `crit`, PS256 with an
 * RS256-imported key…). `alg` in the header decides the signature scheme.
 */
export function signCompact(key: TestJwtKey, payload: object, header: Record<string, unknown>): string {
  const alg = String(header.alg);
  const input = `${b64url(header)}.${b64url(payload)}`;
  const keyObject = KeyObject.from(key.privateKey);
  const hash = `sha${alg.slice(2)}`;
  const options = alg.startsWith('ES')
    ? { key: keyObject, dsaEncoding: 'ieee-p1363' as const }
    : alg.startsWith('PS')
      ? { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
      : keyObject;
  return `${input}.${sign(hash, Buffer.from(input), options).toString('base64url')}`;
}

/** Standard valid claims for `sub` at audience `aud`, issued now with a 5-minute life. */
export function svidClaims(sub: string, aud: string | string[], now = Date.now()): JWTPayload {
  const iat = Math.floor(now / 1000);
  return { sub, aud: Array.isArray(aud) ? aud : [aud], iat, exp: iat + 300 };
}

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export interface LeafOptions {
  subject?: string;
  uris?: string[];
  dns?: string[];
  ips?: string[];
  ca?: boolean;
  /** basicConstraints pathLenConstraint (CA certificates only). */
  pathLength?: number;
  keyUsage?: number | null;
  notBefore?: Date;
  notAfter?: Date;
}

/** Issues a certificate signed by `issuer`; the defaults make a valid X509-SVID leaf. */
export async function issueCert(
  issuer: TestCa,
  opts: LeafOptions = {},
): Promise<IssuedCert & { ca: TestCa }> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const names = [
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const keyUsage = opts.keyUsage === undefined ? x509.KeyUsageFlags.digitalSignature : opts.keyUsage;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(opts.ca ?? false, opts.pathLength, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey, false, crypto),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
  if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: opts.subject ?? 'O=Grantline tests',
      issuer: issuer.cert.subject,
      notBefore: opts.notBefore ?? new Date(Date.now() - HOUR),
      notAfter: opts.notAfter ?? new Date(Date.now() + HOUR),
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: EC_P256,
      extensions,
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    der: Buffer.from(cert.rawData),
    ca: { cert, keys, pem: cert.toString('pem') },
  };
}

/** An intermediate CA under `issuer` (cA=true, keyCertSign), usable as a `TestCa`. */
export async function issueIntermediate(
  issuer: TestCa,
  opts: { notAfter?: Date; pathLength?: number; keyUsage?: number | null } = {},
): Promise<TestCa> {
  const issued = await issueCert(issuer, {
    subject: `CN=intermediate ${serial()}`,
    ca: true,
    keyUsage:
      opts.keyUsage === undefined
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : opts.keyUsage,
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
    ...(opts.pathLength === undefined ? {} : { pathLength: opts.pathLength }),
  });
  return issued.ca;
}
