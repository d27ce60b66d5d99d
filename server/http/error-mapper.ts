import type { ErrorRequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../db/db.errors';
import { GrantlineError, Unavailable } from '../shared/errors';

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
      return new GrantlineError('payload_too_large', 413, 'the request body is larger than 64 KiB');
    case 'entity.parse.failed':
      return new GrantlineError('invalid_request', 400, 'the request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GrantlineError('unsupported_media_type', 415, 'unsupported body encoding or charset');
    case 'parameters.too.many':
      return new GrantlineError('payload_too_large', 413, 'too many form parameters');
  }
  const status = typeof err.status === 'number' ? err.status : 0;
  if (status === 413) return new GrantlineError('payload_too_large', 413, 'the request is too large');
  if (status === 415)
    return new GrantlineError('unsupported_media_type', 415, 'unsupported media type or encoding');
  if (status >= 400 && status < 500)
    return new GrantlineError('invalid_request', 400, 'the request is malformed');
  return undefined;
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
        ? new Unavailable('the database is unavailable; nothing was changed, retry later')
        : fromExpress((err ?? {}) as { type?: unknown; status?: unknown });
  if (!known) {
    return {
      status: 500,
      body: { error: 'server_error', error_description: 'internal error' },
      headers: {},
    };
  }
  const headers: Record<string, string> = {};
  if (known.status === 401) {
    headers['WWW-Authenticate'] =
      `Bearer realm="grantline", error="${known.code}", error_description="${known.message.replace(/"/g, "'")}"`;
  }
  if (known.status === 503) headers['Retry-After'] = '5';
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
  res.set(headers).set('Cache-Control', 'no-store').status(status).json(body);
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
