import express, { type RequestHandler } from 'express';
import { UnsupportedMediaType } from '../../shared/errors';

export const BODY_LIMIT = '64kb';

const FORM_PATHS = /^\/oauth2\//;

/**
 * A request that carries a body must say what it is: JSON everywhere, and also form encoding on the
 * OAuth endpoints (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1 use application/x-www-form-urlencoded).
 */
export const requireSupportedMediaType: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return next();
  if (req.is('application/json')) return next();
  if (FORM_PATHS.test(req.path) && req.is('application/x-www-form-urlencoded')) return next();
  next(new UnsupportedMediaType('send the body as application/json'));
};

export const parseBodies: RequestHandler[] = [
  express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' }),
  express.urlencoded({ limit: BODY_LIMIT, extended: false, type: 'application/x-www-form-urlencoded' }),
];

/** RFC 9207 §2: the error mapper adds `iss` to refusals of this route, as the handler does to answers. */
export const answerAsIssuer =
  (issuer: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.iss = issuer;
    next();
  };

export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
  next();
};
