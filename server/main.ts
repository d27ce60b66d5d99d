import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AuditSequencer } from './audit';
import type { Config } from './config/config';
import { loadScopeCatalogue, type ScopeCatalogue } from './config/scope-catalogue';
import { migrateToLatest } from './db/migrator';
import { pingDb } from './db/pool';
import { createDelegationService } from './grants/delegation.service';
import { createGrantService } from './grants/grant.service';
import { createGrantIssuer } from './grants/grant-issuer';
import { createIntrospectionService } from './grants/introspection.service';
import { createLineageService } from './grants/lineage.service';
import { createApp } from './http/app';
import { authenticate } from './http/middleware/authenticate';
import { auditRoutes } from './http/routes/audit.routes';
import { auditProofRoutes } from './http/routes/audit-proof.routes';
import { delegationRoutes } from './http/routes/delegation.routes';
import { grantRoutes } from './http/routes/grants.routes';
import { oauthRoutes } from './http/routes/oauth.routes';
import { revocationRoutes } from './http/routes/revocations.routes';
import { taskRoutes } from './http/routes/tasks.routes';
import { wellKnownRoutes } from './http/routes/wellknown.routes';
import { createIdentityService, DEV_TRUST_DOMAIN, type IdentityService } from './identity';
import { loadPolicyEngine } from './policy';
import { createExpirySweeper } from './revocation/expiry.sweeper';
import { createRevocationWorker, type RevocationWorker } from './revocation/revocation.worker';
import { type Clock, systemClock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';
import { createMetrics, type Metrics } from './shared/metrics';
import { createAccessControl } from './tasks/access';
import { createTaskService } from './tasks/task.service';
import { createTokenIssuer, type TokenIssuer } from './tokens/access-token';
import { loadSigningKeys } from './tokens/signing-keys';
import { createTokenCustody } from './vault';
import { startAuditLog } from './wiring/audit-log';
import { connectDatabase, type DatabaseConnection } from './wiring/database';
import { loadDevSigningKey, startDevTrustDomain } from './wiring/dev-defaults';
import { connectVault, type VaultConnection } from './wiring/vault-connection';

export interface Broker {
  url: string;
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
}

type Cleanup = () => Promise<void> | void;

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
    const database = await connectDatabase(config, logger);
    cleanups.push(() => database.shutdown());
    await migrateToLatest(database.db);

    const vault = await connectVault(config, {
      logger,
      clock,
      databaseUrl: database.url,
      demoDatabase: opts.demoDatabase ?? 'grantline_demo',
    });
    cleanups.push(() => vault.shutdown());
    const metrics = createMetrics();
    const identity = createIdentityService({
      config: {
        trustDomain: config.identity.trustDomain ?? DEV_TRUST_DOMAIN,
        audience: config.identity.audience,
        ...(config.identity.bundleSource
          ? { bundle: { source: config.identity.bundleSource } }
          : { devHome: config.home }),
        federation: config.identity.federation,
        maxSvidLifetimeSeconds: config.identity.maxSvidLifetimeSeconds,
        leewaySeconds: config.identity.leewaySeconds,
      },
      logger,
      metrics,
      clock,
    });
    if (identity.devMode) await startDevTrustDomain(config.home, clock, logger);
    await identity.start();
    cleanups.push(() => identity.stop());

    const server = http.createServer();
    await listen(server, config.http.host, config.http.port);
    cleanups.push(() => closeServer(server, config.http.shutdownGraceSeconds * 1000));
    const url = `http://${config.http.host}:${(server.address() as AddressInfo).port}`;
    const keys = await loadSigningKeys({
      fallbackKey: () => loadDevSigningKey(config.home, { logger, clock }),
      keyFile: config.tokens.signingKeyFile,
      previousKeyFile: config.tokens.previousSigningKeyFile,
      logger,
    });
    const tokens = createTokenIssuer({ keys, issuer: config.issuer ?? url, clock });
    const audit = await startAuditLog({
      config,
      databaseUrl: database.url,
      logger,
      clock,
      tokenKid: keys.current.kid,
    });
    cleanups.push(() => audit.sequencer.stop());

    const custody = createTokenCustody(vault.vault, { brokerToken: vault.brokerToken });
    const worker = createRevocationWorker({
      db: database.db,
      vault: vault.vault,
      custody,
      clock,
      logger,
      metrics,
      intervalMs: config.revocation.intervalMs,
      maxAttempts: config.revocation.maxAttempts,
    });
    const kick = () => worker.kick();
    const sweeper = createExpirySweeper({ db: database.db, clock, logger, onWork: kick });
    const access = createAccessControl({
      db: database.db,
      policy,
      clock,
      metrics,
      trustDomain: identity.trustDomain,
    });
    const tasks = createTaskService({
      db: database.db,
      vault: vault.vault,
      custody,
      access,
      catalogue,
      clock,
      logger,
      onRevocationQueued: kick,
    });
    const issueGrant = createGrantIssuer({
      db: database.db,
      vault: vault.vault,
      custody,
      catalogue,
      tokens,
      clock,
      logger,
      metrics,
      connectionValues: vault.connectionValues,
      onRevocationQueued: kick,
    });
    const grants = createGrantService({
      db: database.db,
      access,
      catalogue,
      issueGrant,
      clock,
      ttl: { defaultSeconds: config.tokens.defaultTtlSeconds, maxSeconds: config.tokens.maxTtlSeconds },
      onRevocationQueued: kick,
    });
    const introspection = createIntrospectionService({ db: database.db, tokens, access, clock });
    const delegations = createDelegationService({
      db: database.db,
      access,
      catalogue,
      identity,
      tokens,
      issueGrant,
      clock,
    });
    const lineage = createLineageService({ db: database.db, access, clock });

    const app = createApp({
      logger,
      metrics,
      readiness: {
        database: () => pingDb(database.db),
        vault: async () => {
          const health = await vault.vault.health();
          if (health.sealed || !health.initialized) throw new Error('vault sealed or not initialised');
        },
      },
      publicRouters: [wellKnownRoutes({ tokens, scopes: [...catalogue.keys()], auditKeys: audit.keys })],
      authenticate: authenticate(identity),
      protectedRouters: [
        taskRoutes({ tasks, grants }),
        grantRoutes({ grants }),
        delegationRoutes({ delegations, lineage }),
        oauthRoutes({ introspection, grants }),
        revocationRoutes({ introspection }),
        auditRoutes({ db: database.db, access, sequencer: audit.sequencer, auditKeys: audit.keys }),
        auditProofRoutes({ db: database.db, access, sequencer: audit.sequencer }),
      ],
    });
    server.on('request', app);
    const tlsUrl = config.http.tls ? await startTls(config, identity, app, cleanups) : undefined;

    const runBackgroundOnce = async () => {
      await sweeper.sweepOnce();
      await worker.drain();
      await audit.sequencer.runOnce();
    };
    if (!opts.manualBackground) {
      const timer = setInterval(() => {
        sweeper
          .sweepOnce()
          .catch((err) => logger.warn({ err: (err as Error).message }, 'expiry sweep failed'));
      }, config.revocation.intervalMs);
      timer.unref();
      worker.start();
      worker.kick();
      cleanups.push(() => clearInterval(timer));
    }
    cleanups.push(() => worker.stop());
    logger.info(
      { url, tlsUrl, devVault: Boolean(vault.devVault), devIdentity: identity.devMode },
      'grantline is listening',
    );

    let stopping: Promise<void> | undefined;
    return {
      url,
      tlsUrl,
      config,
      logger,
      metrics,
      database,
      vault,
      identity,
      tokens,
      catalogue,
      worker,
      auditSequencer: audit.sequencer,
      runBackgroundOnce,
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

async function startTls(
  config: Config,
  identity: IdentityService,
  app: http.RequestListener,
  cleanups: Cleanup[],
): Promise<string> {
  const tls = config.http.tls!;
  const server = https.createServer(
    identity.tlsServerOptions(fs.readFileSync(tls.certFile, 'utf8'), fs.readFileSync(tls.keyFile, 'utf8')),
    app,
  );
  await listen(server, config.http.host, tls.port);
  cleanups.push(() => closeServer(server, config.http.shutdownGraceSeconds * 1000));
  return `https://${config.http.host}:${(server.address() as AddressInfo).port}`;
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, closes idle keep-alive sockets, and cuts the rest only after the grace period. */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
