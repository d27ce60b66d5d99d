import express, { type Express } from 'express';
import { NotFound } from '../shared/errors';
import type { Metrics } from '../shared/metrics';
import { errorHandler } from './error-mapper';

export type ReadinessCheck = () => Promise<void>;

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

/** `/healthz` (the process answers) and `/readyz` (every named dependency answers), on any listener. */
export function healthRoutes(app: Express, readiness: Record<string, ReadinessCheck>): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runReadiness(readiness);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
}

/**
 * The operator listener (GRANTLINE_OPERATOR_HOST:GRANTLINE_OPERATOR_PORT, loopback by default): Prometheus
 * `/metrics` and the health checks, nothing else. Metrics name tasks' traffic, policy outcomes and
 * authentication failures by reason, which the workloads on the API listener have no business reading,
 * so they are served only here, where the network, not a shared secret, decides who can scrape.
 */
export function createOperatorApp(deps: {
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  healthRoutes(app, deps.readiness);
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.use((req, _res, next) => next(new NotFound(`no route for ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
