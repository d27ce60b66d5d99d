import type { RequestHandler } from 'express';
import { constantTimeEqual } from '../shared/constant-time';
import { AccessDenied, Unauthenticated } from '../shared/errors';
import type { SessionCodec } from './session';

export const CSRF_HEADER = 'x-csrf-token';

/**
 * Every console API call needs a live session; the person it names becomes `req.human`. Without one:
 * 401, and the console sends the browser to sign in.
 */
export function requireSession(sessions: SessionCodec | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!sessions) return next(new Unauthenticated('console sign-in is not configured', 'not_configured'));
    sessions.read(req).then((session) => {
      if (!session) return next(new Unauthenticated('sign in to the console', 'no_session'));
      req.human = session.human;
      req.consoleSession = session;
      next();
    }, next);
  };
}

/**
 * CSRF protection on every state change (OWASP CSRF cheat sheet): the session's synchronizer token in
 * a header a cross-site form cannot set, compared in constant time; and, when the browser says where
 * the request comes from (Origin, Sec-Fetch-Site), it must be this console. SameSite=Strict is the
 * third line, not the only one.
 */
export function requireCsrf(origin: string): RequestHandler {
  return (req, _res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    const session = req.consoleSession;
    const token = req.get(CSRF_HEADER);
    const from = req.get('origin');
    const site = req.get('sec-fetch-site');
    if (!session || !token || !constantTimeEqual(token, session.csrf))
      return next(new AccessDenied('missing or wrong CSRF token', { reason: 'csrf' }));
    if ((from && from !== origin) || (site && site !== 'same-origin'))
      return next(new AccessDenied('cross-origin request refused', { reason: 'csrf' }));
    next();
  };
}
