import express, { type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { parseBodies, requireSupportedMediaType } from '../http/middleware/body';
import { NotFound } from '../shared/errors';
import { consoleAssets } from './assets';
import { authHandlers } from './auth.routes';
import type { ConsoleRoute } from './console-api';
import { requireCsrf, requireSession } from './console-guards';
import type { OidcSignIn } from './oidc';
import type { SessionCodec } from './session';
import type { SignIn } from './sign-in';

export interface ConsoleOptions {
  /** Undefined when no sign-in is possible (no identity provider, not on the dev trust domain). */
  sessions: SessionCodec | undefined;
  signIn: SignIn | undefined;
  oidc: OidcSignIn | undefined;
  redirectUri: string;
  /** The console's origin: the only one a state-changing request may come from. */
  origin: string;
  secure: boolean;
  assetsDir: string;
  api: ConsoleRoute[];
  /** `grantline console`'s one-time links, on the dev trust domain only. */
  devSignIn?: RequestHandler | undefined;
}

/** A strict Content-Security-Policy: everything from this origin, nothing inline, never framed. */
function securityHeaders(secure: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: secure,
  });
}

/** `/console`: sign-in, the JSON API (session and CSRF guarded), and the built single-page app. */
export function createConsoleRouter(o: ConsoleOptions): Router {
  const router = express.Router();
  router.use(securityHeaders(o.secure));
  const auth = authHandlers(o);
  router.get('/auth/login', auth.login);
  router.get('/auth/callback', auth.callback);
  if (o.devSignIn) router.get('/auth/dev', o.devSignIn);

  const api = express.Router();
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  // As on the API: a body is read only once its sender is signed in (and passed the CSRF check).
  api.use(requireSession(o.sessions), requireCsrf(o.origin), requireSupportedMediaType, ...parseBodies);
  api.post('/sign-out', auth.signOut);
  for (const r of o.api) api[r.method](r.path, r.handler as RequestHandler);
  api.use((req, _res, next) => next(new NotFound(`no route for ${req.method} /console/api${req.path}`)));
  router.use('/api', api);
  router.use(consoleAssets(o.assetsDir));
  return router;
}
