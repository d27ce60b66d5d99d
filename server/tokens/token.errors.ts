import { InternalError, InvalidRequest, Unauthenticated } from '../shared/errors';

/**
 * Stable, machine-readable causes of a refused token (for metrics and tests; never switch on messages).
 * Callers that answer a client (introspection, RFC 7662 §2.2) must not reveal them.
 */
export type TokenFailureReason =
  | 'malformed'
  | 'unsupported_alg'
  | 'wrong_type'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_claim';

/** An access token failed verification: 401 `invalid_token` (RFC 9068 §4, RFC 6750 §3.1). */
export class InvalidAccessToken extends Unauthenticated {
  declare readonly reason: TokenFailureReason;
  constructor(reason: TokenFailureReason, message = `access token rejected: ${reason}`, cause?: unknown) {
    super(message, reason);
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * A delegation token failed verification. It arrives as the `subject_token` of a token exchange, and
 * RFC 8693 §2.2.2 requires `invalid_request` (400) for an invalid subject token, not `invalid_grant`.
 */
export class InvalidDelegationToken extends InvalidRequest {
  readonly reason: TokenFailureReason;
  constructor(reason: TokenFailureReason, message = `delegation token rejected: ${reason}`, cause?: unknown) {
    super(message, { reason }, { cause });
    this.reason = reason;
  }
}

/** The signing key configuration is unusable. Thrown at start-up; never shown to a client. */
export class SigningKeyError extends InternalError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** A caller asked to mint a token from claims that break the token's rules: a bug in the caller. */
export class InvalidTokenClaims extends InternalError {
  constructor(message: string) {
    super(message);
  }
}

/** Token configuration (the issuer URL) is unusable. Thrown at start-up; never shown to a client. */
export class TokenConfigError extends InternalError {
  constructor(message: string) {
    super(message);
  }
}
