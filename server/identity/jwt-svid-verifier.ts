import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Clock } from '../shared/clock';
import type { Unauthenticated } from '../shared/errors';
import { authFailure, InvalidSpiffeId } from './identity.errors';
import type { Principal } from './identity.types';
import { parseSpiffeId, type SpiffeId } from './spiffe-id';
import type { TrustBundle } from './trust-bundle';
import { createVerifiedSvids, type VerifiedSvid } from './verified-svids';

/** JWT-SVID §3: only these nine. `none`, HS* and EdDSA are never valid. */
export const JWT_SVID_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const;
const ALLOWED_ALGS: ReadonlySet<string> = new Set(JWT_SVID_ALGORITHMS);
export const MAX_JWT_SVID_BYTES = 8192;
// Compact JWS only (JWT-SVID §2): three base64url parts. An empty signature is let through here so that
// `alg: none` is reported as such by the header check.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface JwtSvidVerifierOptions {
  audience: string;
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  bundleFor(trustDomain: string): TrustBundle | undefined;
  clock: Clock;
  /** Accept an `aud` naming other services besides us (off by default: such a token is replayable). */
  allowMultiAudience?: boolean;
}

function checkShape(token: unknown): string {
  if (typeof token !== 'string' || token.length === 0) {
    throw authFailure('missing_credential', 'no JWT-SVID was presented');
  }
  if (token.length > MAX_JWT_SVID_BYTES) {
    throw authFailure('token_too_large', `a JWT-SVID is at most ${MAX_JWT_SVID_BYTES} bytes`);
  }
  if (!COMPACT_JWS.test(token)) throw authFailure('malformed', 'a JWT-SVID must be a compact JWS');
  return token;
}

/** Header rules of JWT-SVID §2 (alg allow-list, `typ`) and go-spiffe's mandatory `kid`. */
function checkHeader(token: string): ProtectedHeaderParameters & { kid: string } {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw authFailure('malformed', 'the JWT-SVID header is not valid');
  }
  if (typeof header.alg !== 'string' || !ALLOWED_ALGS.has(header.alg)) {
    throw authFailure('alg_not_allowed', 'JWT-SVIDs must use RS, ES or PS 256/384/512');
  }
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') {
    throw authFailure('bad_typ', "the JWT-SVID typ must be 'JWT' or 'JOSE' when present");
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) {
    throw authFailure('missing_kid', 'the JWT-SVID header has no kid');
  }
  return header as ProtectedHeaderParameters & { kid: string };
}

/** Unverified read of `sub` and `exp` (go-spiffe ParseAndValidate step 3), to pick the trust domain. */
function readSubject(token: string): SpiffeId {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw authFailure('malformed', 'the JWT-SVID claims are not valid');
  }
  if (typeof claims.sub !== 'string')
    throw authFailure('invalid_spiffe_id', 'the JWT-SVID sub is not a SPIFFE ID');
  if (claims.exp === undefined) throw authFailure('missing_exp', 'the JWT-SVID has no exp');
  try {
    return parseSpiffeId(claims.sub, { requirePath: true });
  } catch (err) {
    if (err instanceof InvalidSpiffeId)
      throw authFailure('invalid_spiffe_id', `the JWT-SVID sub: ${err.message}`);
    throw err;
  }
}

function claimFailure(err: errors.JWTClaimValidationFailed): Unauthenticated {
  if (err.claim === 'nbf' && err.reason === 'check_failed') {
    return authFailure('not_yet_valid', 'the JWT-SVID is not valid yet');
  }
  if (err.claim === 'aud') {
    return err.reason === 'missing'
      ? authFailure('missing_aud', 'the JWT-SVID has no aud')
      : authFailure('wrong_audience', 'the JWT-SVID is not meant for this audience');
  }
  if (err.claim === 'exp' && err.reason === 'missing')
    return authFailure('missing_exp', 'the JWT-SVID has no exp');
  return authFailure('malformed', `the JWT-SVID ${err.claim} claim is not valid`);
}

/** jose errors by their stable `code` (never their message), identity-standards §8. */
function fromJoseError(err: unknown): Unauthenticated {
  if (!(err instanceof errors.JOSEError)) throw err;
  switch (err.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authFailure('bad_signature', 'the JWT-SVID signature is not valid');
    case 'ERR_JWT_EXPIRED':
      return authFailure('expired', 'the JWT-SVID has expired');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authFailure('alg_not_allowed', 'JWT-SVIDs must use RS, ES or PS 256/384/512');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return authFailure('unknown_kid', 'no key of the trust domain matches the JWT-SVID kid and alg');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimFailure(err as errors.JWTClaimValidationFailed);
    default:
      return authFailure('malformed', 'the JWT-SVID is not a valid JWT');
  }
}

/**
 * The longer of the declared lifetime (`exp - iat`) and the time left (`exp - now`): the latter judges
 * tokens without `iat`, and tokens whose `iat` lies in the future to dodge the cap.
 */
function lifetimeSeconds(payload: JWTPayload, nowSeconds: number, leewaySeconds: number): number {
  const exp = payload.exp as number;
  const remaining = exp - nowSeconds - leewaySeconds;
  return typeof payload.iat === 'number' ? Math.max(exp - payload.iat, remaining) : remaining;
}

/** Time claims, judged now: `exp` and `nbf` with leeway, and the lifetime cap (jose's rules, §2). */
function timeFailure(payload: JWTPayload, now: Date, opts: JwtSvidVerifierOptions): Unauthenticated | null {
  const nowSeconds = now.getTime() / 1000;
  if ((payload.exp as number) <= nowSeconds - opts.leewaySeconds)
    return authFailure('expired', 'the JWT-SVID has expired');
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds + opts.leewaySeconds)
    return authFailure('not_yet_valid', 'the JWT-SVID is not valid yet');
  if (lifetimeSeconds(payload, nowSeconds, opts.leewaySeconds) > opts.maxLifetimeSeconds)
    return authFailure('lifetime_too_long', `JWT-SVIDs may live at most ${opts.maxLifetimeSeconds} seconds`);
  return null;
}

/**
 * Verifies JWT-SVIDs in the order of go-spiffe `ParseAndValidate` (identity-standards §2): shape, header,
 * `sub` → trust domain → THAT trust domain's bundle → `kid` → signature → `exp`/`nbf`/`aud` → lifetime cap.
 */
async function verifyFully(token: string, opts: JwtSvidVerifierOptions): Promise<VerifiedSvid> {
  const header = checkHeader(token);
  const subject = readSubject(token);
  const bundle = opts.bundleFor(subject.trustDomain);
  if (!bundle) throw authFailure('unknown_trust_domain', 'the JWT-SVID trust domain is not trusted here');
  if (!bundle.jwtKeyIds.has(header.kid)) {
    throw authFailure('unknown_kid', 'the JWT-SVID kid is not in its trust domain bundle');
  }
  const now = opts.clock.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, bundle.jwks, {
      algorithms: [...JWT_SVID_ALGORITHMS],
      audience: opts.audience,
      requiredClaims: ['exp', 'sub', 'aud'],
      clockTolerance: opts.leewaySeconds,
      currentDate: now,
    }));
  } catch (err) {
    throw fromJoseError(err);
  }
  // identity-standards §2 (JWT-SVID §3): a token for several audiences can be replayed by any of them.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && !opts.allowMultiAudience) {
    throw authFailure('multiple_audiences', 'the JWT-SVID names several audiences; ask for one');
  }
  const late = timeFailure(payload, now, opts);
  if (late) throw late;
  const principal: Principal = {
    spiffeId: subject.id,
    trustDomain: subject.trustDomain,
    path: subject.path,
    via: 'jwt-svid',
  };
  return { principal, payload, bundle };
}

/** SVIDs remembered per process (a few KB each at most). */
const VERIFIED_SVIDS = 10_000;

/**
 * The verifier. An SVID verified before is answered from memory (verified-svids.ts) only while its trust
 * domain's bundle is the one that verified it and its time claims still hold now; otherwise it is
 * verified afresh, which also gives the precise refusal.
 */
export function createJwtSvidVerifier(opts: JwtSvidVerifierOptions): (token: string) => Promise<Principal> {
  const verified = createVerifiedSvids(VERIFIED_SVIDS);
  return async (input) => {
    const token = checkShape(input);
    const known = verified.get(token);
    if (known) {
      const { trustDomain } = known.principal;
      if (opts.bundleFor(trustDomain) === known.bundle && !timeFailure(known.payload, opts.clock.now(), opts))
        return { ...known.principal };
      verified.drop(token);
    }
    const fresh = await verifyFully(token, opts);
    verified.set(token, fresh);
    return { ...fresh.principal };
  };
}
