/**
 * Errors the broker answers with (`{"error": "<code>", "error_description": "…", ...details}`): one class
 * per code, so callers switch on `instanceof` or on `code`, never on the message.
 */

export interface BrokerErrorBody {
  error: string;
  error_description?: string;
  [detail: string]: unknown;
}

/** The broker answered with an error status. `details` holds everything besides the code and sentence. */
export class BrokerError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;
  /** Seconds the broker asked us to wait (`Retry-After`), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, body: BrokerErrorBody, retryAfterSeconds?: number) {
    const { error, error_description: description, ...details } = body;
    super(`${description ?? `HTTP ${status}`} (${error})`);
    this.name = new.target.name;
    this.code = error;
    this.status = status;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 400: malformed input, unknown fields, wrong types (the field is named in the description). */
export class InvalidRequestError extends BrokerError {}
/** 401: the SVID (or, at a resource server, the access token) was refused; `details.reason` says why. */
export class InvalidTokenError extends BrokerError {}
/** 401: the caller's client authentication failed. */
export class InvalidClientError extends BrokerError {}
/** 403: policy said no; `details.reasons` and `details.policy_ids` when the broker gives them. */
export class AccessDeniedError extends BrokerError {}
/** 404: no such task or grant, or one the caller may not see. */
export class NotFoundError extends BrokerError {}
/** 409: the state does not allow it, e.g. the task is not open (`details.task_status`). */
export class ConflictError extends BrokerError {}
/** 413. */
export class PayloadTooLargeError extends BrokerError {}
/** 415. */
export class UnsupportedMediaTypeError extends BrokerError {}
/** 429: a limit of the task was reached; `details.limit` names it. */
export class QuotaExceededError extends BrokerError {}
/** 503: Vault or PostgreSQL is down. Nothing was issued or changed: safe to retry. */
export class UnavailableError extends BrokerError {}
/** 500: the broker failed; what happened is unknown to the caller. */
export class ServerError extends BrokerError {}
/** RFC 7009 revocation of a token issued to another client. */
export class UnauthorizedClientError extends BrokerError {}
/** RFC 7009 §2.2.1. */
export class UnsupportedTokenTypeError extends BrokerError {}
/** RFC 6749 §5.2 / RFC 8693 §2.2.2 token-endpoint errors. */
export class InvalidScopeError extends BrokerError {}
export class InvalidTargetError extends BrokerError {}
export class InvalidGrantError extends BrokerError {}
export class UnsupportedGrantTypeError extends BrokerError {}

const BY_CODE: Record<
  string,
  new (
    status: number,
    body: BrokerErrorBody,
    retryAfter?: number,
  ) => BrokerError
> = {
  invalid_request: InvalidRequestError,
  invalid_token: InvalidTokenError,
  invalid_client: InvalidClientError,
  access_denied: AccessDeniedError,
  not_found: NotFoundError,
  conflict: ConflictError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  quota_exceeded: QuotaExceededError,
  unavailable: UnavailableError,
  server_error: ServerError,
  unauthorized_client: UnauthorizedClientError,
  unsupported_token_type: UnsupportedTokenTypeError,
  invalid_scope: InvalidScopeError,
  invalid_target: InvalidTargetError,
  invalid_grant: InvalidGrantError,
  unsupported_grant_type: UnsupportedGrantTypeError,
};

/** The class for the body's code; an unknown code (a newer broker) stays a plain BrokerError. */
export function brokerError(status: number, body: unknown, retryAfterSeconds?: number): BrokerError {
  const parsed: BrokerErrorBody =
    body && typeof body === 'object' && typeof (body as BrokerErrorBody).error === 'string'
      ? (body as BrokerErrorBody)
      : { error: status >= 500 ? 'server_error' : 'http_error', error_description: `HTTP ${status}` };
  const Cls = Object.hasOwn(BY_CODE, parsed.error) ? BY_CODE[parsed.error]! : BrokerError;
  return new Cls(status, parsed, retryAfterSeconds);
}

/** The broker did not answer (refused, reset, DNS, timeout): whether it acted is unknown. */
export class BrokerUnreachableError extends Error {
  readonly code = 'unreachable';
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`cannot reach the broker at ${url}: ${describeCause(cause)}`, { cause });
    this.name = 'BrokerUnreachableError';
    this.url = url;
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  if (inner?.code) return inner.code === 'ECONNREFUSED' ? 'connection refused' : inner.code;
  if ((cause as Error)?.name === 'TimeoutError') return 'timed out';
  return inner?.message ?? (cause as Error)?.message ?? String(cause);
}

/** An identity source could not produce an SVID (missing file, expired SVID, no dev trust domain …). */
export class IdentityError extends Error {
  readonly code = 'identity_unavailable';
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'IdentityError';
  }
}

/**
 * RFC 9207: a grant answer named another issuer than the one this client meant to ask (or none at all,
 * though the broker's metadata promises `iss`). The answer is not used: it may come from another
 * authorization server mixed up with this one.
 */
export class IssuerMismatchError extends Error {
  readonly code = 'issuer_mismatch';
  readonly expected: string;
  readonly received: string | undefined;
  constructor(expected: string, received: string | undefined) {
    super(`the answer names issuer ${received ?? '(none)'}, not ${expected} (RFC 9207)`);
    this.name = 'IssuerMismatchError';
    this.expected = expected;
    this.received = received;
  }
}
