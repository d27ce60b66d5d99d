import type { RequestHandler } from 'express';
import type { HumanPrincipal, IdentityService, Principal } from '../../identity';

declare global {
  namespace Express {
    interface Request {
      /** The authenticated SPIFFE workload, set by `authenticate`. */
      principal?: Principal;
      /** The person signed in to the console, set by the console's session guard. */
      human?: HumanPrincipal;
      /** The console session (its CSRF token), set with `human`. */
      consoleSession?: { csrf: string; expiresAt: Date };
    }
  }
}

/**
 * Requires an SVID on every request it guards: an mTLS client certificate, else a Bearer JWT-SVID.
 * Failures go to the error mapper as `Unauthenticated` (401, `WWW-Authenticate`, a stable `reason`);
 * the identity service has already counted them in `grantline_authentication_failures_total`.
 */
export function authenticate(identity: IdentityService): RequestHandler {
  return (req, res, next) => {
    identity.authenticate(req).then(
      (principal) => {
        req.principal = principal;
        next();
      },
      (err: unknown) => {
        // The body of an anonymous request is never read: close the connection after the 401 rather
        // than drain whatever the caller still sends (or never sends).
        if (announcesBody(req)) res.set('Connection', 'close');
        next(err);
      },
    );
  };
}

const announcesBody = (req: { headers: Record<string, string | string[] | undefined> }): boolean =>
  Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
