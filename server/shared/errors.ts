/**
 * Every error code Grantline answers with: a closed list, one class per code, one status per code.
 * Domains throw these classes (or subclasses that fix the message); `http/error-mapper.ts` is the only
 * place that turns them into HTTP bodies, and it switches over this union exhaustively.
 * OAuth codes follow RFC 6749 §5.2, RFC 6750 §3.1 and RFC 8693 §2.2.2.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  unsupported_token_type: 400,
  unauthorized_client: 400,
  invalid_token: 401,
  invalid_client: 401,
  access_denied: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 429,
  server_error: 500,
  upstream_error: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

interface ErrorOptions {
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
  /** Whether `message` may be shown to the caller; by default only for 4xx and 503. */
  expose?: boolean;
}

/** The one error base. `expose` says whether `message` and `details` may reach the caller. */
export abstract class GrantlineError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly #expose: boolean | undefined;

  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.details = opts.details;
    this.#expose = opts.expose;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  get expose(): boolean {
    return this.#expose ?? (this.status < 500 || this.status === 503);
  }
}

export class InvalidRequest extends GrantlineError {
  readonly code = 'invalid_request';
  constructor(message: string, details?: Record<string, unknown>, opts: { cause?: unknown } = {}) {
    super(message, { details, ...opts });
  }
}

/** RFC 6749 §5.2: a requested scope is unknown, malformed or wider than allowed. */
export class InvalidScope extends GrantlineError {
  readonly code = 'invalid_scope';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { details });
  }
}

/** RFC 8693 §2.2.2 / RFC 8707 §2: the requested audience or resource is not acceptable. */
export class InvalidTarget extends GrantlineError {
  readonly code = 'invalid_target';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { details });
  }
}

/** RFC 6749 §5.2: the presented grant (e.g. a delegation) is invalid, expired, used or revoked. */
export class InvalidGrant extends GrantlineError {
  readonly code = 'invalid_grant';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { details });
  }
}

export class UnsupportedGrantType extends GrantlineError {
  readonly code = 'unsupported_grant_type';
}

/** RFC 7009 §2.2.1: the server does not support revoking this type of token. */
export class UnsupportedTokenType extends GrantlineError {
  readonly code = 'unsupported_token_type';
}

/** RFC 6749 §5.2: the authenticated client may not use this token or grant. */
export class UnauthorizedClient extends GrantlineError {
  readonly code = 'unauthorized_client';
}

/**
 * RFC 6750 §3.1: the credential is missing, malformed, expired or not trusted. `reason` is a stable
 * machine-readable cause (e.g. `expired`, `wrong_audience`), also used for metrics.
 */
export class Unauthenticated extends GrantlineError {
  readonly code = 'invalid_token';
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message, { details: { reason } });
    this.reason = reason;
  }
}

export class InvalidClient extends GrantlineError {
  readonly code = 'invalid_client';
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message, { details: { reason } });
    this.reason = reason;
  }
}

export class AccessDenied extends GrantlineError {
  readonly code = 'access_denied';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { details });
  }
}

export class NotFound extends GrantlineError {
  readonly code = 'not_found';
  constructor(message = 'not found') {
    super(message);
  }
}

export class Conflict extends GrantlineError {
  readonly code = 'conflict';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { details });
  }
}

export class PayloadTooLarge extends GrantlineError {
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaType extends GrantlineError {
  readonly code = 'unsupported_media_type';
}

export class QuotaExceeded extends GrantlineError {
  readonly code = 'quota_exceeded';
  constructor(limit: string, message: string) {
    super(message, { details: { limit } });
  }
}

/** A bug or a broken configuration: a fixed 500 body; the message stays in the log. */
export class InternalError extends GrantlineError {
  readonly code = 'server_error';
  constructor(message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { ...opts, expose: false });
  }
}

/** A dependency (Vault) answered, but refused or did not understand the broker's call: 502, never exposed. */
export class UpstreamError extends GrantlineError {
  readonly code = 'upstream_error';
  constructor(message: string, opts: { details?: Record<string, unknown> } = {}) {
    super(message, { ...opts, expose: false });
  }
}

/** A dependency (Vault, the database) is down: the caller may retry; nothing was half-issued. */
export class Unavailable extends GrantlineError {
  readonly code = 'unavailable';
  constructor(message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts);
  }
}
