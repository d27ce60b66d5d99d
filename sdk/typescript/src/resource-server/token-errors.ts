/**
 * Why the kit refused a token. `status` and `error` are what RFC 6750 §3.1 says to answer: 401
 * `invalid_token` for a token that is bad, expired, revoked, for another resource or bound to another
 * certificate; 403 `insufficient_scope` for a good token that does not cover this call.
 */
export type RejectionReason =
  | 'missing'
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
  | 'revoked'
  | 'cnf_mismatch'
  | 'missing_scope'
  | 'args_digest_mismatch';

export class TokenRejectedError extends Error {
  readonly reason: RejectionReason;
  readonly status: 401 | 403;
  readonly code: 'invalid_token' | 'insufficient_scope';
  /** For 403: the scopes this call needs (RFC 6750 §3 `scope` attribute). */
  readonly requiredScopes: string[];

  constructor(reason: RejectionReason, message: string, requiredScopes: string[] = []) {
    super(message);
    this.name = 'TokenRejectedError';
    this.reason = reason;
    const insufficient = reason === 'missing_scope' || reason === 'args_digest_mismatch';
    this.status = insufficient ? 403 : 401;
    this.code = insufficient ? 'insufficient_scope' : 'invalid_token';
    this.requiredScopes = requiredScopes;
  }
}

/**
 * Neither the revocation feed nor introspection could say whether the token is still live: the kit fails
 * closed, and the middleware answers 503.
 */
export class VerificationUnavailableError extends Error {
  readonly code = 'temporarily_unavailable';
  readonly status = 503;
  constructor(cause: unknown) {
    super('cannot check the token against Grantline right now (revocation feed down, introspection failed)', {
      cause,
    });
    this.name = 'VerificationUnavailableError';
  }
}
