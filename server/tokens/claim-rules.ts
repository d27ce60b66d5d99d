import { z } from 'zod';
import { type Clock, nowSeconds } from '../shared/clock';
import { InvalidTokenClaims, TokenConfigError } from './token.errors';

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER certificate, 43 chars without padding. */
const CERT_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const MAX_TEXT = 2048;
/** The `args_digest` of an approval: `sha256:` and 64 lowercase hex digits. */
const ARGS_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Scopes as the RFC 8693 §4.2 / RFC 9068 `scope` claim: one space-separated string. */
export function scopeClaim(scopes: readonly string[]): string {
  if (scopes.length === 0) throw new InvalidTokenClaims('a token needs at least one scope');
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope))
      throw new InvalidTokenClaims(`not a valid scope token: ${JSON.stringify(scope)}`);
  }
  return scopes.join(' ');
}

/**
 * RFC 8414 §2: the issuer is a URL without query or fragment, and clients compare it byte for byte
 * (§3.3), so a trailing slash would make every endpoint URL and every `iss` check disagree.
 * http is tolerated for the local dev listener; production sets an https issuer.
 */
export function requireIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TokenConfigError(`issuer is not a URL: ${issuer}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TokenConfigError('issuer must be an https URL');
  }
  if (url.search || url.hash || issuer.includes('?') || issuer.includes('#') || issuer.endsWith('/')) {
    throw new TokenConfigError('issuer must have no query, fragment or trailing slash');
  }
  return issuer;
}

export function requireText(name: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new InvalidTokenClaims(`${name} must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  return value;
}

export function requireCertThumbprint(value: string): string {
  if (!CERT_THUMBPRINT.test(value)) throw new InvalidTokenClaims('certThumbprint must be base64url SHA-256');
  return value;
}

export function requireArgsDigest(value: string): string {
  if (!ARGS_DIGEST.test(value)) throw new InvalidTokenClaims('argsDigest must be sha256:<64 hex digits>');
  return value;
}

/** `exp` in seconds; a token that would already be dead at mint time is a caller bug. */
export function expiryClaim(expiresAt: Date, clock: Clock): number {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  if (!Number.isFinite(exp) || exp <= nowSeconds(clock)) {
    throw new InvalidTokenClaims('expiresAt must be in the future');
  }
  return exp;
}

// Schemas for reading verified payloads: the signature proves we wrote them, these prove the shape.
export const text = z.string().min(1).max(MAX_TEXT);
export const scopeList = z
  .string()
  .transform((value) => value.split(' '))
  .pipe(z.array(z.string().regex(SCOPE_TOKEN)).min(1));
export const certThumbprint = z.string().regex(CERT_THUMBPRINT);
export const argsDigestClaim = z.string().regex(ARGS_DIGEST);
export const numericDate = z.number().int().nonnegative();

export const fromSeconds = (seconds: number): Date => new Date(seconds * 1000);
