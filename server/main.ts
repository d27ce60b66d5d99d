import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config';
import { connectDatabase, type DatabaseConnection } from './db/connect';
import { migrateToLatest } from './db/migrator';
import { pingDb } from './db/pool';
import { createApp } from './http/app';
import type { Clock } from './shared/clock';
import { systemClock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';
import { createMetrics } from './shared/metrics';

export interface Broker {
  url: string;
  config: Config;
  logger: Logger;
  database: DatabaseConnection;
  /** Stop accepting, let in-flight requests finish (up to the grace period), then release everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
}

type Cleanup = () => Promise<void> | void;

/** The composition root: config → logger → db → vault → services → http. */
export async function startBroker(config: Config, opts: StartOptions = {}): Promise<Broker> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const clock = opts.clock ?? systemClock;
  void clock;
  const cleanups: Cleanup[] = [];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const database = await connectDatabase(config, logger);
    cleanups.push(() => database.shutdown());
    await migrateToLatest(database.db);

    const metrics = createMetrics();
    const app = createApp({
      logger,
      metrics,
      readiness: { database: () => pingDb(database.db) },
      routers: [],
    });
    const server = await listen(app, config.http.host, config.http.port);
    const address = server.address() as AddressInfo;
    const url = `http://${config.http.host}:${address.port}`;
    logger.info({ url }, 'grantline is listening');
    let stopping: Promise<void> | undefined;
    return {
      url,
      config,
      logger,
      database,
      stop: () => {
        stopping ??= (async () => {
          await closeServer(server, config.http.shutdownGraceSeconds * 1000);
          await undo();
          logger.info('grantline stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

function listen(app: http.RequestListener, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Stops accepting, closes idle keep-alive sockets, and cuts the rest only after the grace period. */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
