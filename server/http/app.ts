import express, { type Express, type RequestHandler } from 'express';
import { NotFound } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { errorHandler } from './error-mapper';
import { noStore, parseBodies, requireSupportedMediaType } from './middleware/body';
import { requestLogger, requestMetrics } from './middleware/request-context';
import type { Route } from './routes';

export type ReadinessCheck = () => Promise<void>;

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  /** Named checks for `/readyz`; each throws when its dependency is not ready. */
  readiness: Record<string, ReadinessCheck>;
  /** The route table; every route not marked public must first pass `authenticate`. */
  routes?: Route[];
  authenticate?: RequestHandler;
}

async function runReadiness(checks: Record<string, ReadinessCheck>) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch {
        return [name, 'unavailable'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));
  app.use(requestMetrics(deps.metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runReadiness(deps.readiness);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use(requireSupportedMediaType, ...parseBodies);
  const routes = deps.routes ?? [];
  for (const r of routes.filter((x) => x.public)) app[r.method](r.path, r.handler);
  if (deps.authenticate) app.use(['/v1', '/oauth2'], deps.authenticate);
  for (const r of routes.filter((x) => !x.public)) {
    if (!deps.authenticate) throw new Error(`route ${r.method} ${r.path} needs an authenticator`);
    app[r.method](r.path, ...(r.credential ? [noStore] : []), r.handler);
  }
  app.use((req, _res, next) => next(new NotFound(`no route for ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
