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
  return (req, _res, next) => {
    identity.authenticate(req).then(
      (principal) => {
        req.principal = principal;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
