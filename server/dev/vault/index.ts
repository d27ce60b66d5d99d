import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { createDatabaseEngine } from './database-engine';
import { createDatabaseRoutes } from './database-routes';
import { createKvRoutes } from './kv-routes';
import { createKvStore } from './kv-store';
import { createLeaseManager } from './lease-manager';
import { createLeaseRoutes } from './lease-routes';
import { createPolicyRoutes } from './policy-routes';
import { createPolicyStore } from './policy-store';
import { newTokenId } from './random-ids';
import { createRequestPipeline } from './request-pipeline';
import { createSysRoutes } from './sys-routes';
import { createTokenRoutes } from './token-routes';
import { createTokenStore } from './token-store';

export interface DevVaultOptions {
  /** 0 = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a random `hvs.…` token. */
  rootToken?: string;
  /** Used for `database/config` when its connection_url has no host (or is absent). */
  databaseUrl?: string;
  clock?: Clock;
  logger: Logger;
  /** How often the expiry timer runs (default 500 ms). */
  expiryIntervalMs?: number;
  /** Vault retries a failed revocation 6 times, 2^n × 10 s apart (spec §3.3). */
  revocationRetry?: { attempts: number; baseDelayMs: number };
}

export interface DevVault {
  readonly url: string;
  readonly rootToken: string;
  readonly port: number;
  /** Closes the listener and releases DB pools and timers; the state stays in memory. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same state (a Vault that was down and came back). */
  start(): Promise<void>;
  /** Sealed: every API call answers 503 `Vault is sealed`; sys/health answers 503 with `sealed: true`. */
  setSealed(sealed: boolean): void;
  /** Runs token/lease expiry and due revocation retries now (for ManualClock tests). */
  tick(): Promise<void>;
  /** Stops for good: stop() and drop all state. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

function buildState(opts: DevVaultOptions, clock: Clock, log: Logger, isSealed: () => boolean) {
  const retry = opts.revocationRetry ?? { attempts: 6, baseDelayMs: 10_000 };
  const policies = createPolicyStore();
  const leases = createLeaseManager({ clock, logger: log, retry });
  const tokens = createTokenStore({ clock, onRevoked: (ids) => leases.revokeForTokens(ids) });
  const kv = createKvStore(clock);
  const database = createDatabaseEngine({ clock, logger: log, leases, defaultDatabaseUrl: opts.databaseUrl });
  const routes = [
    ...createSysRoutes({ clock, isSealed, clusterId: randomUUID() }),
    ...createPolicyRoutes(policies),
    ...createLeaseRoutes({ leases, tokens, clock }),
    ...createTokenRoutes({ tokens, policies, clock }),
    ...createDatabaseRoutes(database),
    ...createKvRoutes(kv),
  ];
  const handler = createRequestPipeline({ routes, tokens, policies, logger: log, isSealed });
  return { policies, leases, tokens, kv, database, handler };
}

type DevVaultState = ReturnType<typeof buildState>;

/** The expiry timer and tick(); ticks run one after another, so one called after moving the clock sees it. */
function createExpiryDriver(state: DevVaultState, log: Logger, intervalMs: number, isSealed: () => boolean) {
  let ticking: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = (): Promise<void> => {
    const run = async (): Promise<void> => {
      if (isSealed()) return;
      state.tokens.expireDue();
      await state.leases.processDue();
    };
    // The next tick runs whatever the last one did; a failed tick was reported to its own caller.
    ticking = ticking.then(run, run);
    return ticking;
  };
  return {
    tick,
    start(): void {
      timer = setInterval(() => {
        tick().catch((err: Error) => log.error({ error: err.message }, 'expiry tick failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await ticking;
    },
  };
}

/** Starts Grantline's in-memory, Vault-API-compatible development server (DESIGN "Dev Vault"). */
export async function startDevVault(opts: DevVaultOptions): Promise<DevVault> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ module: 'devvault' });
  const host = opts.host ?? '127.0.0.1';
  const rootToken = opts.rootToken ?? newTokenId();
  let sealed = false;
  let closed = false;
  const state = buildState(opts, clock, log, () => sealed);
  state.tokens.createRoot(rootToken);
  const expiry = createExpiryDriver(state, log, opts.expiryIntervalMs ?? 500, () => sealed);
  const server = createServer(state.handler);
  let port = await listen(server, opts.port ?? 0, host);
  let listening = true;
  expiry.start();

  const vault: DevVault = {
    get url() {
      return `http://${host}:${port}`;
    },
    rootToken,
    get port() {
      return port;
    },
    async stop() {
      if (listening) await closeServer(server);
      listening = false;
      await expiry.stop();
      await state.leases.drain();
      await state.database.closePools();
    },
    async start() {
      if (closed) throw new Error('the dev vault was closed');
      if (listening) return;
      port = await listen(server, port, host);
      listening = true;
      expiry.start();
    },
    setSealed(value) {
      sealed = value;
      log.info({ sealed }, 'dev vault seal state changed');
    },
    tick: expiry.tick,
    async close() {
      closed = true;
      await vault.stop();
      for (const store of [state.tokens, state.leases, state.kv, state.database]) store.clear();
      state.policies.reset();
    },
  };
  log.info({ url: vault.url }, 'dev vault listening');
  return vault;
}
