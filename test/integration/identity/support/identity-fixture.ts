import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express, { type Express } from 'express';
import { errorHandler } from '../../../../server/http/error-mapper';
import { authenticate } from '../../../../server/http/middleware/authenticate';
import {
  createIdentityService,
  type IdentityConfig,
  type IdentityService,
} from '../../../../server/identity';
import { type Clock, systemClock } from '../../../../server/shared/clock';
import { createMetrics, type Metrics } from '../../../../server/shared/metrics';
import { captureLogger } from '../../../unit/identity/support/capture-logger';
import {
  createTrustDomain,
  type TestTrustDomain,
  trustDomainBundle,
} from '../../../unit/identity/support/pki';

export const AUDIENCE = 'grantline-test';

export interface IdentityFixture {
  dir: string;
  ours: TestTrustDomain;
  federated: TestTrustDomain;
  identity: IdentityService;
  metrics: Metrics;
  log: ReturnType<typeof captureLogger>;
  app: Express;
  /** How many times the protected handler ran (it must never run for a rejected request). */
  handlerRuns: () => number;
  close: () => Promise<void>;
}

/** A tiny app: `GET /whoami` behind `authenticate(identity)`, with the lead's error mapper. */
export function whoamiApp(identity: IdentityService): { app: Express; runs: () => number } {
  let runs = 0;
  const app = express();
  app.get('/whoami', authenticate(identity), (req, res) => {
    runs += 1;
    res.json(req.principal);
  });
  app.use(errorHandler);
  return { app, runs: () => runs };
}

/** Trust domain `a.example` (ours, from a bundle file) and `b.example` (federated, from another file). */
export async function createIdentityFixture(
  overrides: Partial<IdentityConfig> = {},
  clock: Clock = systemClock,
): Promise<IdentityFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'grantline-identity-'));
  const ours = await createTrustDomain('a.example');
  const federated = await createTrustDomain('b.example');
  await writeFile(path.join(dir, 'a.json'), trustDomainBundle(ours));
  await writeFile(path.join(dir, 'b.json'), trustDomainBundle(federated));
  const metrics = createMetrics({ collectProcess: false });
  const log = captureLogger();
  const identity = createIdentityService({
    config: {
      trustDomain: ours.name,
      audience: AUDIENCE,
      bundle: { source: path.join(dir, 'a.json') },
      federation: [{ trustDomain: federated.name, source: path.join(dir, 'b.json') }],
      maxSvidLifetimeSeconds: 3600,
      leewaySeconds: 30,
      ...overrides,
    },
    logger: log.logger,
    metrics,
    clock,
  });
  await identity.start();
  const { app, runs } = whoamiApp(identity);
  return {
    dir,
    ours,
    federated,
    identity,
    metrics,
    log,
    app,
    handlerRuns: runs,
    close: async () => {
      identity.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The value of `grantline_authentication_failures_total{reason,via}`. */
export async function authFailureCount(metrics: Metrics, reason: string, via?: string): Promise<number> {
  const { values } = await metrics.authFailures.get();
  return values
    .filter((v) => v.labels.reason === reason && (via === undefined || v.labels.via === via))
    .reduce((sum, v) => sum + v.value, 0);
}
