import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A free loopback port (closed again before it is returned: the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const SETPRIV = '/usr/bin/setpriv';

export interface LoggedChild {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** The last lines of its output (stdout and stderr interleaved), for failure messages. */
  tail(lines?: number): string;
  /** Resolves with the first output line matching `pattern` (rejects when the process exits first). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * A child process whose output is appended to `logFile` and scanned line by line. It dies with the test
 * process (`setpriv --pdeathsig SIGKILL`), so a crashed jest worker leaves no broker or Vault behind.
 */
export function spawnLogged(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; logFile: string },
): LoggedChild {
  const argv = fs.existsSync(SETPRIV)
    ? [SETPRIV, '--pdeathsig', 'SIGKILL', command, ...args]
    : [command, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  const recent: string[] = [];
  const watchers = new Set<(line: string) => void>();
  let exited = false;
  const exit = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve(signal ?? String(code));
    }),
  );
  // Output can still arrive after 'exit' (the pipes drain later): the log ends once they have closed.
  child.once('close', () => log.end());
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      log.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        recent.push(line);
        for (const w of watchers) w(line);
      }
      recent.splice(0, Math.max(0, recent.length - 200));
    });
  }
  return {
    pid: child.pid ?? -1,
    process: child,
    exited: exit,
    hasExited: () => exited,
    tail: (n = 30) => recent.slice(-n).join('\n'),
    kill: (signal) => {
      if (!exited) child.kill(signal);
    },
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          watchers.delete(watch);
          if (err) reject(err);
          else resolve(match!);
        };
        const watch = (line: string) => {
          const m = line.match(pattern);
          if (m) done(undefined, m);
        };
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `no line matching ${pattern} within ${timeoutMs} ms:\n${recent.slice(-30).join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        watchers.add(watch);
        void exit.then((how) =>
          done(new Error(`exited (${how}) before printing ${pattern}:\n${recent.slice(-30).join('\n')}`)),
        );
      });
    },
  };
}

/** The environment of a child: ours without Vault, Grantline or test settings that would leak into it. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([k]) => !/^(VAULT_|BAO_|GRANTLINE_|DATABASE_|TEST_DATABASE_URL|SPIFFE_|FAULTS_)/.test(k),
  );
  return { ...Object.fromEntries(kept), ...extra };
}
