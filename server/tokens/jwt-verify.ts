import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Clock } from '../shared/clock';
import { SIGNING_ALG } from './key-material';
import type { SigningKeys } from './signing-keys';
import type { TokenFailureReason } from './token.errors';

/** Leeway for `exp`/`iat` between replicas' clocks; RFC 9068 §4 allows "a few minutes" at most. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** Anything longer is not ours: refuse before parsing. Even a 32-hop chain stays far below this. */
export const MAX_TOKEN_LENGTH = 16_384;

export type FailureFactory = (reason: TokenFailureReason, message?: string, cause?: unknown) => Error;

export interface VerifyContext {
  keySet: JWTVerifyGetKey;
  issuer: string;
  clock: Clock;
}

export interface VerifyRules {
  /** Exact media type without `application/` (RFC 8725 §3.11 explicit typing), e.g. `at+jwt`. */
  typ: string;
  audience?: string;
  requiredClaims: string[];
  fail: FailureFactory;
}

/** The verification key set: current and previous public keys, selected by `kid`. */
export function createVerificationKeySet(keys: SigningKeys): JWTVerifyGetKey {
  return createLocalJWKSet(keys.jwks());
}

/**
 * Verifies a compact JWT signed by one of our keys. The header is checked first (only ES256, the
 * exact `typ`, a `kid`), so a token of the wrong kind is refused before any signature work; jose then
 * checks the signature, `iss`, `aud`, `exp` and the required claims with the same rules again.
 */
export async function verifyOwnJwt(
  token: string,
  ctx: VerifyContext,
  rules: VerifyRules,
): Promise<{ payload: JWTPayload; kid: string }> {
  const kid = checkHeader(token, rules);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, ctx.keySet, {
      algorithms: [SIGNING_ALG],
      typ: rules.typ,
      issuer: ctx.issuer,
      ...(rules.audience === undefined ? {} : { audience: rules.audience }),
      requiredClaims: rules.requiredClaims,
      currentDate: ctx.clock.now(),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (err) {
    throw rules.fail(reasonForJoseError(err), undefined, err);
  }
  // jose checks `iat` only when `maxTokenAge` is set; a token from the future was not minted by us.
  if (
    typeof payload.iat === 'number' &&
    payload.iat > ctx.clock.now().getTime() / 1000 + CLOCK_TOLERANCE_SECONDS
  ) {
    throw rules.fail('not_yet_valid', 'the token was issued in the future');
  }
  return { payload, kid };
}

function checkHeader(token: string, rules: VerifyRules): string {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw rules.fail('malformed');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw rules.fail('malformed', undefined, err);
  }
  if (header.alg !== SIGNING_ALG) throw rules.fail('unsupported_alg');
  if (normaliseTyp(header.typ) !== rules.typ) throw rules.fail('wrong_type');
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw rules.fail('unknown_key');
  return header.kid;
}

/** RFC 7515 §4.1.9: `typ` is case-insensitive and `application/` may be omitted. */
function normaliseTyp(typ: unknown): string | undefined {
  if (typeof typ !== 'string') return undefined;
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** Maps jose's stable error codes (never messages) to our reasons. Non-jose errors are not ours to hide. */
function reasonForJoseError(err: unknown): TokenFailureReason {
  if (!(err instanceof errors.JOSEError)) throw err;
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return reasonForClaim(err as errors.JWTClaimValidationFailed);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'unsupported_alg';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    default:
      return 'malformed';
  }
}

function reasonForClaim(err: errors.JWTClaimValidationFailed): TokenFailureReason {
  switch (err.claim) {
    case 'iss':
      return err.reason === 'missing' ? 'missing_claim' : 'wrong_issuer';
    case 'aud':
      return err.reason === 'missing' ? 'missing_claim' : 'wrong_audience';
    case 'nbf':
      return 'not_yet_valid';
    case 'typ':
      return 'wrong_type';
    default:
      return err.reason === 'missing' ? 'missing_claim' : 'invalid_claim';
  }
}
