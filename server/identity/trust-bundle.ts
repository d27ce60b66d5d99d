import { createPublicKey, X509Certificate } from 'node:crypto';
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { parse as parseLossless } from 'lossless-json';
import { BundleError } from './identity.errors';
import { certValidity } from './x509-lib';

/**
 * The keys of ONE trust domain. Bundles are never merged across trust domains (SPIFFE Trust Domain and
 * Bundle §4; identity-standards §4): every lookup goes through the trust domain of the SVID's own ID.
 */
export interface TrustBundle {
  trustDomain: string;
  /** `spiffe_sequence`, exact (bundle format §4: parse it as at least 64 bits); it must never go backwards. */
  sequence: bigint | undefined;
  refreshHintSeconds: number | undefined;
  /** `kid`s of the usable JWT-SVID keys. */
  jwtKeyIds: ReadonlySet<string>;
  /** A jose local key set of this trust domain's JWT-SVID keys only, with `use` stripped. */
  jwks: JWTVerifyGetKey;
  x509Authorities: readonly X509Certificate[];
  /** True when no usable key remains: then every SVID of this trust domain is invalid (§4.1). */
  empty: boolean;
}

export interface ParsedBundle {
  bundle: TrustBundle;
  /** Entries that were ignored, and why (no key material: safe to log). */
  warnings: string[];
}

const MAX_KEYS = 1000;
const RSA_MIN_BITS = 2048;
const EC_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const SPIFFE_USES = new Set(['jwt-svid', 'x509-svid', 'wit-svid']);

type RawJwk = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A SPIFFE bundle names key uses (`jwt-svid`/`x509-svid`) or carries `spiffe_*` members. A document
 * with neither is a plain JWKS such as SPIRE's OIDC discovery `/keys` (no `use` by default, or `sig`);
 * its keys can only be JWT-SVID keys.
 */
function isSpiffeBundle(doc: Record<string, unknown>, keys: unknown[]): boolean {
  if ('spiffe_sequence' in doc || 'spiffe_refresh_hint' in doc) return true;
  return keys.some((k) => isObject(k) && typeof k.use === 'string' && SPIFFE_USES.has(k.use));
}

/** Checks a JWT-SVID key and returns a copy without `use` (jose skips `use: jwt-svid`, §8), or why not. */
function toJwtKey(jwk: RawJwk): JWK | string {
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return 'jwt-svid key without kid';
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') return `jwt-svid key ${jwk.kid}: unsupported kty`;
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) {
    throw new BundleError(`jwt-svid key ${jwk.kid} contains private key material`);
  }
  if (jwk.kty === 'EC' && !EC_CURVES.has(String(jwk.crv)))
    return `jwt-svid key ${jwk.kid}: unsupported curve`;
  const { use: _use, ...key } = jwk;
  try {
    // Import once here so a broken key is reported at load time, not as a 500 during verification.
    const imported = createPublicKey({ key: key as import('node:crypto').JsonWebKey, format: 'jwk' });
    const bits = imported.asymmetricKeyDetails?.modulusLength;
    if (jwk.kty === 'RSA' && (bits === undefined || bits < RSA_MIN_BITS)) {
      return `jwt-svid key ${jwk.kid}: RSA keys need at least ${RSA_MIN_BITS} bits`;
    }
  } catch {
    return `jwt-svid key ${jwk.kid}: not a valid public key`;
  }
  return key as JWK;
}

/** The first `x5c` element of an `x509-svid` entry (X509-SVID §6 / bundle spec §4.2.1), or why not. */
function toAuthority(jwk: RawJwk): X509Certificate | string {
  const x5c = jwk.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') return 'x509-svid entry without x5c';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(x5c[0])) return 'x509-svid entry: x5c is not base64';
  try {
    const cert = new X509Certificate(Buffer.from(x5c[0], 'base64'));
    certValidity(cert);
    return cert;
  } catch {
    return 'x509-svid entry: x5c[0] is not a DER certificate';
  }
}

function readKeys(doc: Record<string, unknown>): unknown[] {
  const keys = doc.keys;
  if (!Array.isArray(keys)) throw new BundleError('a bundle must have a "keys" array');
  if (keys.length > MAX_KEYS) throw new BundleError(`a bundle holds at most ${MAX_KEYS} keys`);
  return keys;
}

function readOptionalInteger(doc: Record<string, unknown>, member: string): number | undefined {
  const value = doc[member];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new BundleError(`"${member}" must be a non-negative integer`);
  }
  return value;
}

/**
 * `spiffe_sequence` with every digit: JSON.parse turns numbers past 2^53 into doubles, so the member is
 * read again from the text with lossless-json, which hands numbers over as their source digits.
 */
function readSequence(text: string, doc: Record<string, unknown>): bigint | undefined {
  if (readOptionalInteger(doc, 'spiffe_sequence') === undefined) return undefined;
  const exact = (parseLossless(text, null, (digits) => digits) as Record<string, unknown>).spiffe_sequence;
  if (typeof exact !== 'string' || !/^\d+$/.test(exact))
    throw new BundleError('"spiffe_sequence" must be a non-negative integer');
  return BigInt(exact);
}

/**
 * Parses a SPIFFE bundle (or a plain JWKS, see {@link isSpiffeBundle}) for `trustDomain`. Entries with a
 * missing or unknown `use`, unknown `kty`, or no usable key are ignored with a warning (bundle spec
 * §4.2); a document that is not a JWK set, or one with private keys or duplicate `kid`s, is rejected.
 */
export function parseTrustBundle(text: string, trustDomain: string): ParsedBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new BundleError('the bundle is not valid JSON', { cause });
  }
  if (!isObject(doc)) throw new BundleError('the bundle is not a JSON object');
  const keys = readKeys(doc);
  const spiffe = isSpiffeBundle(doc, keys);
  const warnings: string[] = [];
  const jwtKeys: JWK[] = [];
  const authorities: X509Certificate[] = [];
  for (const entry of keys) {
    if (!isObject(entry) || typeof entry.kty !== 'string') {
      warnings.push('entry without kty');
      continue;
    }
    const use = spiffe ? entry.use : entry.use === undefined || entry.use === 'sig' ? 'jwt-svid' : entry.use;
    const parsed =
      use === 'jwt-svid' ? toJwtKey(entry) : use === 'x509-svid' ? toAuthority(entry) : undefined;
    if (parsed === undefined) warnings.push(`entry with ${use === undefined ? 'no' : 'an unsupported'} use`);
    else if (typeof parsed === 'string') warnings.push(parsed);
    else if (parsed instanceof X509Certificate) authorities.push(parsed);
    else jwtKeys.push(parsed);
  }
  const jwtKeyIds = new Set(jwtKeys.map((k) => k.kid as string));
  if (jwtKeyIds.size !== jwtKeys.length)
    throw new BundleError('the bundle has duplicate jwt-svid kid values');
  return {
    bundle: {
      trustDomain,
      sequence: readSequence(text, doc),
      refreshHintSeconds: readOptionalInteger(doc, 'spiffe_refresh_hint'),
      jwtKeyIds,
      jwks: createLocalJWKSet({ keys: jwtKeys }),
      x509Authorities: authorities,
      empty: jwtKeys.length === 0 && authorities.length === 0,
    },
    warnings,
  };
}
