import { GrantlineError } from '../shared/errors';

/** RFC 6749 §5.2 / RFC 8693 §2.2.2 error codes, all HTTP 400. */
export class OAuthError extends GrantlineError {
  constructor(
    code: 'invalid_request' | 'invalid_scope' | 'invalid_target' | 'unsupported_grant_type' | 'invalid_grant',
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, 400, message, details ? { details } : {});
  }
}
