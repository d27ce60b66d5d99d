import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../../config/config';
import { createLogger, type Logger } from '../../shared/logger';
import { isWorkerMessage, type SharedDefaults } from './messages';
import { type StartedDefaults, startSharedDefaults } from './shared-defaults';

/** A worker that keeps dying is not restarted forever: this many exits within the window stop the broker. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

interface Pool {
  workers: number;
  logger: Logger;
  shared: SharedDefaults;
  ready: Set<number>;
  exits: number[];
  stopping: boolean;
  announced: boolean;
}

function fork(pool: Pool): Worker {
  const worker = cluster.fork();
  worker.on('message', (m: unknown) => {
    if (!isWorkerMessage(m)) return;
    if (m.type === 'grantline:hello') worker.send({ type: 'grantline:shared', shared: pool.shared });
    if (m.type === 'grantline:ready') {
      pool.ready.add(worker.id);
      if (!pool.announced && pool.ready.size === pool.workers) {
        pool.announced = true;
        pool.logger.info({ url: m.url, workers: pool.workers }, 'every worker is listening');
        process.stdout.write(`grantline is ready at ${m.url} (${pool.workers} workers)\n`);
      }
    }
  });
  return worker;
}

/** A worker that died while the broker runs is replaced, unless workers keep dying (then everything stops). */
function onExit(pool: Pool, stop: (code: number) => void) {
  return (worker: Worker, code: number | null, signal: string | null) => {
    pool.ready.delete(worker.id);
    if (pool.stopping) return;
    const now = Date.now();
    pool.exits = [...pool.exits.filter((t) => now - t < RESTART_WINDOW_MS), now];
    pool.logger.error({ workerPid: worker.process.pid, code, signal }, 'a broker worker exited');
    if (!pool.announced || pool.exits.length > MAX_RESTARTS) {
      pool.logger.error(
        { exits: pool.exits.length },
        pool.announced ? 'broker workers keep exiting: stopping' : 'a broker worker failed to start',
      );
      stop(1);
      return;
    }
    fork(pool);
  };
}

/** Asks every worker to stop (each finishes its in-flight requests), and kills the ones that overstay. */
async function stopWorkers(graceMs: number): Promise<void> {
  const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
  await Promise.all(
    alive.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          const timer = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          w.process.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * `grantline serve --workers N` (N > 1): the primary starts the development defaults once (embedded
 * PostgreSQL, local Vault, dev trust domain and key) and migrates, then forks N workers, each a whole
 * broker on the same listen ports (node:cluster hands connections round-robin). It serves no request
 * itself; it replaces a worker that dies, and on SIGINT/SIGTERM stops the workers, then the defaults.
 */
export async function runPrimary(config: Config, workers: number): Promise<void> {
  const logger = createLogger({ level: config.logLevel }).child({ module: 'cluster' });
  let defaults: StartedDefaults | undefined;
  const pool: Pool = {
    workers,
    logger,
    shared: {},
    ready: new Set(),
    exits: [],
    stopping: false,
    announced: false,
  };
  const stop = (code: number) => {
    if (pool.stopping) return;
    pool.stopping = true;
    logger.info({ code }, 'stopping the broker workers');
    void stopWorkers((config.http.shutdownGraceSeconds + 5) * 1000)
      .then(() => defaults?.stop())
      .finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));
  defaults = await startSharedDefaults(config, logger);
  pool.shared = defaults.shared;
  cluster.on('exit', onExit(pool, stop));
  for (let i = 0; i < workers; i++) fork(pool);
}
