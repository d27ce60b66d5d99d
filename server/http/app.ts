import express, { type Express, type RequestHandler } from 'express';
import { NotFound } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { errorHandler } from './error-mapper';
import { answerAsIssuer, noStore, parseBodies, requireSupportedMediaType } from './middleware/body';
import { requestLogger, requestMetrics } from './middleware/request-context';
import { healthRoutes, type ReadinessCheck } from './operator-app';
import type { Route } from './routes';

export type { ReadinessCheck } from './operator-app';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  /** Named checks for `/readyz`; each throws when its dependency is not ready. */
  readiness: Record<string, ReadinessCheck>;
  /** The route table; every route not marked public must first pass `authenticate`. */
  routes?: Route[];
  authenticate?: RequestHandler;
  /** Sub-applications with their own authentication (the console, by session cookie), by path. */
  mounts?: Array<{ path: string; handler: RequestHandler }>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));
  app.use(requestMetrics(deps.metrics));

  // Liveness and readiness stay here for load balancers; /metrics is only on the operator listener.
  healthRoutes(app, deps.readiness);

  const routes = deps.routes ?? [];
  // Public routes are GETs and take no body.
  for (const r of routes.filter((x) => x.public)) app[r.method](r.path, r.handler);
  for (const m of deps.mounts ?? []) app.use(m.path, m.handler);
  if (deps.authenticate) app.use(['/v1', '/oauth2'], deps.authenticate);
  // A body is read only after its sender authenticated, and only on a route that exists: an anonymous
  // caller cannot make the broker buffer or parse anything (it gets its 401 first).
  for (const r of routes.filter((x) => !x.public)) {
    if (!deps.authenticate) throw new Error(`route ${r.method} ${r.path} needs an authenticator`);
    app[r.method](
      r.path,
      ...(r.issuer ? [answerAsIssuer(r.issuer)] : []),
      requireSupportedMediaType,
      ...parseBodies,
      ...(r.credential ? [noStore] : []),
      r.handler,
    );
  }
  app.use((req, _res, next) => next(new NotFound(`no route for ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
