import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { DEV_TRUST_DOMAIN } from '../../identity/identity-config';
import { parseSpiffeId, trustDomainId } from '../../identity/spiffe-id';
import { type Clock, systemClock } from '../../shared/clock';
import { readOrCreate, replaceIfChanged } from './dev-files';
import { createDevCa, type DevCa, issueSvid } from './dev-x509';

/**
 * The development trust domain: keys on local disk, for a fresh machine and for tests. Anything it signs
 * is worthless as identity; production configures a real SPIFFE bundle (GRANTLINE_TRUST_BUNDLE).
 */
export { DEV_TRUST_DOMAIN };

const JWT_KEY_FILE = 'jwt-signing-key.json';
const CA_FILE = 'x509-ca.json';
const BUNDLE_FILE = 'bundle.json';
const PRIVATE = 0o600;
const PUBLIC = 0o644;

export interface DevTrustDomain {
  dir: string;
  trustDomain: string;
  /** The SPIFFE bundle (JWKS) with the JWT key and the CA, to configure as a bundle source. */
  bundlePath: string;
}

interface DevKeys {
  jwtKey: JWK & { kid: string };
  ca: DevCa;
}

async function createJwtKey(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return JSON.stringify({ ...jwk, kid, alg: 'ES256' }, null, 2);
}

/** SPIFFE bundle format (bundle spec §4): the JWT key with `use: jwt-svid`, the CA as `x509-svid` + `x5c`. */
function bundleDocument({ jwtKey, ca }: DevKeys): string {
  const { d: _d, alg: _alg, ...publicJwt } = jwtKey;
  const caCert = new X509Certificate(ca.certPem);
  const caJwk = caCert.publicKey.export({ format: 'jwk' });
  const keys = [
    { ...publicJwt, use: 'jwt-svid' },
    { ...caJwk, use: 'x509-svid', x5c: [caCert.raw.toString('base64')] },
  ];
  return `${JSON.stringify({ keys, spiffe_sequence: 1, spiffe_refresh_hint: 300 }, null, 2)}\n`;
}

async function loadKeys(dir: string, now: Date): Promise<DevKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const jwtKey = JSON.parse(await readOrCreate(path.join(dir, JWT_KEY_FILE), createJwtKey, PRIVATE));
  const makeCa = async () => JSON.stringify(await createDevCa(trustDomainId(DEV_TRUST_DOMAIN), now), null, 2);
  const ca = JSON.parse(await readOrCreate(path.join(dir, CA_FILE), makeCa, PRIVATE)) as DevCa;
  return { jwtKey, ca };
}

/**
 * Creates the dev trust domain `spiffe://dev.grantline.local` under `<home>/dev-identity/`, or reuses
 * what is there: an ES256 JWT-SVID key with a `kid`, a P-256 X.509 CA, and `bundle.json` with both.
 * Private keys are mode 0600.
 */
export async function initDevTrustDomain(home: string, clock: Clock = systemClock): Promise<DevTrustDomain> {
  return (await ensureDevTrustDomain(home, clock)).domain;
}

async function ensureDevTrustDomain(
  home: string,
  clock: Clock,
): Promise<{ domain: DevTrustDomain; keys: DevKeys }> {
  const dir = path.join(home, 'dev-identity');
  const keys = await loadKeys(dir, clock.now());
  const bundlePath = path.join(dir, BUNDLE_FILE);
  await replaceIfChanged(bundlePath, bundleDocument(keys), PUBLIC);
  return { domain: { dir, trustDomain: DEV_TRUST_DOMAIN, bundlePath }, keys };
}

function devWorkloadId(spiffeId: string): string {
  const id = parseSpiffeId(spiffeId, { requirePath: true });
  if (id.trustDomain !== DEV_TRUST_DOMAIN) {
    throw new Error(`the dev trust domain only issues SVIDs for spiffe://${DEV_TRUST_DOMAIN}/…`);
  }
  return id.id;
}

function checkTtl(ttlSeconds: number): number {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new Error('ttlSeconds must be a positive integer');
  return ttlSeconds;
}

/** Mints a JWT-SVID shaped like SPIRE's (ES256, `kid`, `typ: JWT`, `aud` always an array). */
export async function mintDevJwtSvid(opts: {
  home: string;
  spiffeId: string;
  audience: string;
  ttlSeconds: number;
  clock?: Clock;
}): Promise<string> {
  const clock = opts.clock ?? systemClock;
  const sub = devWorkloadId(opts.spiffeId);
  const ttl = checkTtl(opts.ttlSeconds);
  const { jwtKey } = (await ensureDevTrustDomain(opts.home, clock)).keys;
  const iat = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: jwtKey.kid, typ: 'JWT' })
    .setSubject(sub)
    .setAudience([opts.audience])
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(await importJWK(jwtKey, 'ES256'));
}

/** Issues a dev X509-SVID; `bundlePem` is the dev CA, the trust anchor to give peers. */
export async function issueDevX509Svid(opts: {
  home: string;
  spiffeId: string;
  ttlSeconds?: number;
  clock?: Clock;
}): Promise<{ certPem: string; keyPem: string; bundlePem: string }> {
  const clock = opts.clock ?? systemClock;
  const sub = devWorkloadId(opts.spiffeId);
  const ttl = checkTtl(opts.ttlSeconds ?? 3600);
  const { ca } = (await ensureDevTrustDomain(opts.home, clock)).keys;
  const svid = await issueSvid(ca, sub, ttl, clock.now());
  return { ...svid, bundlePem: ca.certPem };
}
