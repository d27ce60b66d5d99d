import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import canonicalize from 'canonicalize';
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type RejectionReason, TokenRejectedError } from './token-errors';

/** RFC 9068 §2.1. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface VerifyOptions {
  /** The broker's `issuer` (RFC 8414 metadata), compared exactly. */
  issuer: string;
  /** This resource: the token's `aud` must contain it (RFC 9068 §4, RFC 8707). */
  audience: string;
  /** The broker's keys, e.g. `createRemoteJWKSet(new URL(metadata.jwks_uri))`. */
  jwks: JWTVerifyGetKey;
  /** Scopes the call needs, all of them. */
  scopes?: string[];
  /** When the tool requires one: the digest of this call's arguments (see `argsDigest`). */
  argsDigest?: string;
  /** The client certificate presented on this connection (DER or X509Certificate), for `cnf` tokens. */
  clientCertificate?: Buffer | X509Certificate;
  /** Default `['ES256']`, what Grantline signs with. */
  algorithms?: string[];
  clockToleranceSeconds?: number;
  currentDate?: Date;
}

export interface VerifiedToken {
  token: string;
  jti: string;
  taskId: string;
  /** The task's owner. */
  subject: string;
  /** The current holder's SPIFFE ID. */
  clientId: string;
  scopes: string[];
  audience: string[];
  issuedAt: Date;
  expiresAt: Date;
  /** RFC 8693 actor chain, current holder outermost. */
  act: unknown;
  certThumbprint?: string;
  argsDigest?: string;
  claims: JWTPayload;
}

/** `sha256:<hex>` of the RFC 8785 canonical JSON of a call's arguments: what approvals and tokens bind. */
export function argsDigest(args: unknown): string {
  const canonical = canonicalize(args);
  if (canonical === undefined) throw new TypeError('the arguments have no JSON form');
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** RFC 8705 §3.1: base64url SHA-256 of the DER certificate. */
export function certificateThumbprint(cert: Buffer | X509Certificate): string {
  const der = cert instanceof X509Certificate ? cert.raw : cert;
  return createHash('sha256').update(der).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function reasonOf(err: unknown): RejectionReason {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const byClaim: Record<string, RejectionReason> = {
      aud: 'wrong_audience',
      iss: 'wrong_issuer',
      typ: 'wrong_type',
      nbf: 'not_yet_valid',
      iat: 'not_yet_valid',
    };
    return byClaim[err.claim] ?? (err.reason === 'missing' ? 'missing_claim' : 'malformed');
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'unsupported_alg';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'malformed';
}

async function checkSignatureAndClaims(token: string, o: VerifyOptions) {
  try {
    return await jwtVerify(token, o.jwks, {
      issuer: o.issuer,
      audience: o.audience,
      typ: ACCESS_TOKEN_TYP,
      algorithms: o.algorithms ?? ['ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope'],
      clockTolerance: o.clockToleranceSeconds ?? 5,
      ...(o.currentDate ? { currentDate: o.currentDate } : {}),
    });
  } catch (err) {
    const reason = reasonOf(err);
    throw new TokenRejectedError(reason, `access token rejected: ${reason}`);
  }
}

/** RFC 8705 §3: a certificate-bound token is only good on a connection presenting that certificate. */
function checkBinding(claims: JWTPayload, o: VerifyOptions): string | undefined {
  const bound = (claims.cnf as { 'x5t#S256'?: unknown } | undefined)?.['x5t#S256'];
  if (bound === undefined) return undefined;
  const presented = o.clientCertificate ? certificateThumbprint(o.clientCertificate) : undefined;
  if (typeof bound !== 'string' || !presented || !sameText(bound, presented))
    throw new TokenRejectedError(
      'cnf_mismatch',
      'the token is bound to a client certificate not presented here',
    );
  return bound;
}

/**
 * Verifies a Grantline access token for this resource (RFC 9068 §4): signature by the broker's key,
 * `typ: at+jwt`, issuer, audience, lifetime, the required scopes, the `cnf` certificate binding when the
 * token carries one, and `args_digest` when the tool requires one. Whether the grant was revoked since is
 * the resource server's next question (the kit answers it from the revocation feed).
 */
export async function verifyAccessToken(token: string, o: VerifyOptions): Promise<VerifiedToken> {
  if (!token) throw new TokenRejectedError('missing', 'no access token');
  const { payload } = await checkSignatureAndClaims(token, o);
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  const certThumbprint = checkBinding(payload, o);
  const missing = (o.scopes ?? []).filter((s) => !scopes.includes(s));
  if (missing.length)
    throw new TokenRejectedError('missing_scope', `the token lacks ${missing.join(' ')}`, o.scopes ?? []);
  const digest = typeof payload.args_digest === 'string' ? payload.args_digest : undefined;
  if (o.argsDigest !== undefined && (!digest || !sameText(digest, o.argsDigest)))
    throw new TokenRejectedError(
      'args_digest_mismatch',
      'the token is not for these arguments',
      o.scopes ?? [],
    );
  return {
    token,
    jti: payload.jti!,
    taskId: String(payload.task_id ?? ''),
    subject: payload.sub!,
    clientId: String(payload.client_id),
    scopes,
    audience: Array.isArray(payload.aud) ? payload.aud : [payload.aud!],
    issuedAt: new Date(payload.iat! * 1000),
    expiresAt: new Date(payload.exp! * 1000),
    act: payload.act,
    ...(certThumbprint ? { certThumbprint } : {}),
    ...(digest ? { argsDigest: digest } : {}),
    claims: payload,
  };
}
