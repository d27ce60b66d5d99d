/**
 * The one error base of Grantline. Domains throw subclasses; `http/error-mapper.ts` is the only place
 * that turns them into HTTP bodies. `expose` says whether `message` may be shown to the caller.
 */
export class GrantlineError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { expose?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.expose = opts.expose ?? status < 500;
    this.details = opts.details;
  }
}

export class InvalidRequest extends GrantlineError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_request', 400, message, { details });
  }
}

export class Unauthenticated extends GrantlineError {
  /** `reason` is a stable machine-readable cause (e.g. `expired`, `wrong_audience`), used for metrics. */
  readonly reason: string;
  constructor(message: string, reason: string, code: 'invalid_token' | 'invalid_client' = 'invalid_token') {
    super(code, 401, message, { details: { reason } });
    this.reason = reason;
  }
}

export class AccessDenied extends GrantlineError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('access_denied', 403, message, { details });
  }
}

export class NotFound extends GrantlineError {
  constructor(message = 'not found') {
    super('not_found', 404, message);
  }
}

export class Conflict extends GrantlineError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', 409, message, { details });
  }
}

export class QuotaExceeded extends GrantlineError {
  constructor(limit: string, message: string) {
    super('quota_exceeded', 429, message, { details: { limit } });
  }
}

/** A dependency (Vault, the database) is down: the caller may retry; nothing was half-issued. */
export class Unavailable extends GrantlineError {
  constructor(message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('unavailable', 503, message, { expose: true, ...opts });
  }
}
