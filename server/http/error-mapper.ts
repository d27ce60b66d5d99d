import type { ErrorRequestHandler, Response } from 'express';
import { DatabaseUnavailable, isDatabaseUnavailable } from '../db/db.errors';
import {
  type ErrorCode,
  GrantlineError,
  InvalidRequest,
  PayloadTooLarge,
  UnsupportedMediaType,
} from '../shared/errors';

export interface ErrorBody {
  error: string;
  error_description: string;
  [detail: string]: unknown;
}

/**
 * Errors raised by express itself (body-parser, the router's parameter decoding), identified by their
 * `type` or by the 4xx `status` they carry. Their own messages are not passed on.
 */
function fromExpress(err: {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}): GrantlineError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new PayloadTooLarge('the request body is larger than 64 KiB');
    case 'entity.parse.failed':
      return new InvalidRequest('the request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaType('unsupported body encoding or charset');
    case 'parameters.too.many':
      return new PayloadTooLarge('too many form parameters');
  }
  const status = typeof err.status === 'number' ? err.status : 0;
  if (status === 413) return new PayloadTooLarge('the request is too large');
  if (status === 415) return new UnsupportedMediaType('unsupported media type or encoding');
  if (status >= 400 && status < 500) return new InvalidRequest('the request is malformed');
  return undefined;
}

/** The headers a code carries (RFC 6750 §3 for 401; a retry hint for 503). Exhaustive over ErrorCode. */
function headersFor(err: GrantlineError): Record<string, string> {
  const code: ErrorCode = err.code;
  switch (code) {
    case 'invalid_token':
    case 'invalid_client':
      return {
        'WWW-Authenticate': `Bearer realm="grantline", error="${code}", error_description="${err.message.replace(/"/g, "'")}"`,
      };
    case 'unavailable':
      return { 'Retry-After': '5' };
    case 'invalid_request':
    case 'invalid_scope':
    case 'invalid_target':
    case 'invalid_grant':
    case 'unsupported_grant_type':
    case 'unsupported_token_type':
    case 'unauthorized_client':
    case 'access_denied':
    case 'not_found':
    case 'conflict':
    case 'payload_too_large':
    case 'unsupported_media_type':
    case 'quota_exceeded':
    case 'server_error':
    case 'upstream_error':
      return {};
    default:
      return unreachable(code);
  }
}

function unreachable(code: never): never {
  throw new Error(`unmapped error code ${String(code)}`);
}

const UNAVAILABLE =
  'a dependency (Vault or PostgreSQL) is unavailable; nothing was issued or changed, retry later';

/** The one place a typed error becomes an HTTP body. Unknown errors are a fixed 500: no stack, no message. */
export function toHttpError(err: unknown): {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
} {
  const known =
    err instanceof GrantlineError
      ? err
      : isDatabaseUnavailable(err)
        ? new DatabaseUnavailable(err)
        : fromExpress((err ?? {}) as { type?: unknown; status?: unknown });
  if (!known) {
    return {
      status: 500,
      body: { error: 'server_error', error_description: 'internal error' },
      headers: {},
    };
  }
  const headers = headersFor(known);
  // A 5xx says only what kind of failure it was: Vault paths, operations and internal codes stay in the log.
  if (known.status >= 500) {
    const unavailable = known.status === 503;
    return {
      status: known.status,
      body: {
        error: unavailable ? 'unavailable' : 'server_error',
        error_description: unavailable ? UNAVAILABLE : 'internal error',
      },
      headers,
    };
  }
  return {
    status: known.status,
    body: {
      error: known.code,
      error_description: known.expose ? known.message : 'the request was refused',
      ...(known.expose ? known.details : {}),
    },
    headers,
  };
}

export function sendError(res: Response, err: unknown): void {
  const { status, body, headers } = toHttpError(err);
  const iss: unknown = res.locals.iss;
  res
    .set(headers)
    .set('Cache-Control', 'no-store')
    .status(status)
    .json(typeof iss === 'string' ? { ...body, iss } : body);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const { status } = toHttpError(err);
  if (status >= 500) req.log?.error({ err }, 'request failed');
  else req.log?.info({ code: (err as GrantlineError).code, status }, 'request rejected');
  if (res.headersSent) {
    res.end();
    return;
  }
  sendError(res, err);
};
