import http from 'node:http';
import path from 'node:path';
import type { RequestHandler } from 'express';
import type { AuditSequencer } from './audit';
import type { Config } from './config/config';
import { loadScopeCatalogue, type ScopeCatalogue } from './config/scope-catalogue';
import { migrateToLatest } from './db/migrator';
import { pingDb } from './db/pool';
import { createApp, type ReadinessCheck } from './http/app';
import { authenticate } from './http/middleware/authenticate';
import { createOperatorApp } from './http/operator-app';
import { routeTable } from './http/routes';
import { createIdentityService, type IdentityService } from './identity';
import { loadPolicyEngine } from './policy';
import type { RevocationWorker } from './revocation/revocation.worker';
import { type Clock, systemClock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';
import { createMetrics, type Metrics } from './shared/metrics';
import { createTokenIssuer, type TokenIssuer } from './tokens/access-token';
import { loadSigningKeys } from './tokens/signing-keys';
import { startAuditLog } from './wiring/audit-log';
import { buildConsole } from './wiring/console';
import { connectDatabase, type DatabaseConnection } from './wiring/database';
import { loadDevSigningKey, startDevTrustDomain } from './wiring/dev-defaults';
import { closeServer, listen, startTlsServer, urlOf } from './wiring/http-server';
import { identitySourceOptions, startSvidTls } from './wiring/identity-source';
import { buildServices, type Infrastructure, type Services } from './wiring/services';
import { connectVault, type VaultConnection } from './wiring/vault-connection';

export interface Broker {
  url: string;
  /** The operator listener: `/metrics`, `/healthz`, `/readyz` (loopback unless configured). */
  operatorUrl: string;
  tlsUrl: string | undefined;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  database: DatabaseConnection;
  vault: VaultConnection;
  identity: IdentityService;
  tokens: TokenIssuer;
  catalogue: ScopeCatalogue;
  worker: RevocationWorker;
  /** The audit log's sequencer (leading or following). */
  auditSequencer: AuditSequencer;
  /** Runs one expiry sweep and drains due revocation jobs now (tests, and `grantline` admin paths). */
  runBackgroundOnce(): Promise<void>;
  /** One reconciliation pass now (tests); orphans are acted on once older than the grace period. */
  reconcileOnce(dryRun?: boolean): ReturnType<Services['reconcileOnce']>;
  /** Stop accepting, let in-flight requests finish (up to the grace period), then release everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
  /** Name of the demo database in dev mode (tests give each broker its own). */
  demoDatabase?: string;
  /** Do not start the background worker/sweeper timers (tests drive them with runBackgroundOnce). */
  manualBackground?: boolean;
  /** Connection facts of a local Vault another process runs (a `serve --workers` primary). */
  connectionValues?: Record<string, string | number>;
}

type Cleanup = () => Promise<void> | void;

function identityFor(config: Config, deps: { logger: Logger; metrics: Metrics; clock: Clock }) {
  return createIdentityService({
    config: {
      trustDomain: config.identity.trustDomain ?? '',
      audience: config.identity.audience,
      ...identitySourceOptions(config),
      federation: config.identity.federation,
      maxSvidLifetimeSeconds: config.identity.maxSvidLifetimeSeconds,
      leewaySeconds: config.identity.leewaySeconds,
      allowMultiAudience: config.identity.allowMultiAudience,
    },
    ...deps,
  });
}

/** Database (migrated), Vault, identity: what the services stand on. Each pushes its own cleanup. */
async function connect(
  config: Config,
  opts: StartOptions,
  ctx: { logger: Logger; clock: Clock; cleanups: Cleanup[] },
) {
  const { logger, clock, cleanups } = ctx;
  const database = await connectDatabase(config, logger);
  cleanups.push(() => database.shutdown());
  await migrateToLatest(database.db);
  const connected = await connectVault(config, {
    logger,
    clock,
    databaseUrl: database.url,
    demoDatabase: opts.demoDatabase ?? 'grantline_demo',
  });
  cleanups.push(() => connected.shutdown());
  const vault = opts.connectionValues ? { ...connected, connectionValues: opts.connectionValues } : connected;
  const metrics = createMetrics();
  const identity = identityFor(config, { logger, metrics, clock });
  if (identity.devMode) await startDevTrustDomain(config.home, clock, logger);
  await identity.start();
  cleanups.push(() => identity.stop());
  return { database, vault, metrics, identity };
}

function startBackground(services: Services, config: Config, logger: Logger, cleanups: Cleanup[]): void {
  const timer = setInterval(() => {
    services.sweepOnce().catch((err) => logger.warn({ err: (err as Error).message }, 'expiry sweep failed'));
  }, config.revocation.intervalMs);
  timer.unref();
  const every = config.revocation.reconcileIntervalSeconds * 1000;
  const reconcile =
    every > 0
      ? setInterval(() => {
          services
            .reconcileOnce()
            .catch((err) => logger.warn({ err: (err as Error).message }, 'reconciliation failed'));
        }, every)
      : undefined;
  reconcile?.unref();
  cleanups.push(() => clearInterval(reconcile));
  services.worker.start();
  services.worker.kick();
  cleanups.push(() => clearInterval(timer));
}

function readinessOf(infra: Infrastructure): Record<string, ReadinessCheck> {
  return {
    database: () => pingDb(infra.db),
    vault: async () => {
      const health = await infra.vault.vault.health();
      if (health.sealed || !health.initialized) throw new Error('vault sealed or not initialised');
    },
  };
}

function appFor(infra: Infrastructure, services: Services, consoleRouter: RequestHandler) {
  const { db, tokens, catalogue } = infra;
  return createApp({
    mounts: [{ path: '/console', handler: consoleRouter }],
    logger: infra.logger,
    metrics: infra.metrics,
    readiness: readinessOf(infra),
    routes: routeTable({ ...services, db, tokens, scopes: [...catalogue.keys()] }),
    authenticate: authenticate(infra.identity),
  });
}

/** Signing keys (files, or the dev key) and the issuer (configured, or this broker's URL). */
async function tokenIssuerFor(config: Config, ctx: { url: string; logger: Logger; clock: Clock }) {
  const keys = await loadSigningKeys({
    fallbackKey: () => loadDevSigningKey(config.home, { logger: ctx.logger, clock: ctx.clock }),
    keyFile: config.tokens.signingKeyFile,
    previousKeyFile: config.tokens.previousSigningKeyFile,
    logger: ctx.logger,
  });
  return createTokenIssuer({ keys, issuer: config.issuer ?? ctx.url, clock: ctx.clock });
}

/** The mTLS listener: from certificate files, or serving the broker's own X509-SVID from the Workload API. */
function startMtls(config: Config, identity: IdentityService, app: http.RequestListener) {
  if (config.http.tls) return startTlsServer(config, identity, app);
  if (config.http.tlsFromSvid) return startSvidTls(config, identity, app);
  return Promise.resolve(undefined);
}

/** The operator listener: metrics and health on their own (by default loopback) address. */
async function startOperatorServer(config: Config, infra: Infrastructure, cleanups: Cleanup[]) {
  const server = http.createServer(
    createOperatorApp({ metrics: infra.metrics, readiness: readinessOf(infra) }),
  );
  await listen(server, config.operator.host, config.operator.port);
  cleanups.push(() => closeServer(server, config.http.shutdownGraceSeconds * 1000));
  return urlOf('http', config.operator.host, server);
}

/** The API app on the (already listening) API server, then the operator and the optional mTLS listeners. */
async function serveOn(
  server: http.Server,
  q: { config: Config; infra: Infrastructure; services: Services; cleanups: Cleanup[]; url: string },
) {
  const app = appFor(q.infra, q.services, await buildConsole(q.infra, q.services, q.url));
  server.on('request', app);
  const operatorUrl = await startOperatorServer(q.config, q.infra, q.cleanups);
  const tls = await startMtls(q.config, q.infra.identity, app);
  if (tls) q.cleanups.push(() => tls.close());
  return { operatorUrl, tlsUrl: tls?.url };
}

/** The composition root: config → logger → db → vault → identity, keys, policy → services → http. */
export async function startBroker(config: Config, opts: StartOptions = {}): Promise<Broker> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const clock = opts.clock ?? systemClock;
  const cleanups: Cleanup[] = [];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const catalogue = loadScopeCatalogue(config.configDir);
    const policy = loadPolicyEngine({ dir: path.join(config.configDir, 'policies'), logger });
    const { database, vault, metrics, identity } = await connect(config, opts, { logger, clock, cleanups });
    const server = http.createServer();
    await listen(server, config.http.host, config.http.port);
    cleanups.push(() => closeServer(server, config.http.shutdownGraceSeconds * 1000));
    const url = urlOf('http', config.http.host, server);
    const tokens = await tokenIssuerFor(config, { url, logger, clock });
    const audit = await startAuditLog({ config, databaseUrl: database.url, logger, clock, tokens, cleanups });
    const infra = {
      config,
      db: database.db,
      databaseUrl: database.url,
      vault,
      identity,
      tokens,
      policy,
      catalogue,
      clock,
      logger,
      metrics,
      audit,
    };
    const services = buildServices(infra);
    const { operatorUrl, tlsUrl } = await serveOn(server, { config, infra, services, cleanups, url });
    if (!opts.manualBackground) startBackground(services, config, logger, cleanups);
    cleanups.push(() => services.worker.stop());
    cleanups.push(() => services.hub.stop());
    cleanups.push(() => services.targets.close());
    const dev = {
      devVault: Boolean(vault.devVault),
      openbao: vault.openbao?.version,
      devIdentity: identity.devMode,
    };
    logger.info({ url, operatorUrl, tlsUrl, ...dev }, 'grantline is listening');
    let stopping: Promise<void> | undefined;
    return {
      url,
      operatorUrl,
      tlsUrl,
      config,
      logger,
      metrics,
      database,
      vault,
      identity,
      tokens,
      catalogue,
      worker: services.worker,
      auditSequencer: audit.sequencer,
      reconcileOnce: (dryRun) => services.reconcileOnce(dryRun),
      runBackgroundOnce: async () => {
        await services.sweepOnce();
        await services.worker.drain();
        await services
          .reconcileOnce()
          .catch((err) => logger.warn({ err: (err as Error).message }, 'reconciliation failed'));
        await audit.sequencer.runOnce();
      },
      stop: () => {
        stopping ??= undo().then(() => logger.info('grantline stopped'));
        return stopping;
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

export { closeServer };
