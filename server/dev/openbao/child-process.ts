import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ManagedChild {
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last lines it wrote to stderr (for error messages; the caller decides what is safe to show). */
  stderrTail(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';
const TAIL_LINES = 40;

/**
 * Starts a long-running helper (OpenBao, SPIRE). Under Linux it runs through `setpriv --pdeathsig
 * SIGKILL`, so the helper dies with us even when we are killed and no shutdown hook runs. stdout is
 * discarded: `bao server -dev` prints its root token and unseal key there.
 */
export function spawnManaged(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; prefix?: string[] } = {},
): ManagedChild {
  const prefix = opts.prefix ?? [];
  const wrapped = existsSync(SETPRIV)
    ? [SETPRIV, '--pdeathsig', 'SIGKILL', ...prefix, command, ...args]
    : [...prefix, command, ...args];
  const child = spawn(wrapped[0]!, wrapped.slice(1), {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail.push(...chunk.split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - TAIL_LINES));
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.once('error', () => {
    exited = true;
  });
  return {
    pid: child.pid ?? -1,
    process: child,
    stderrTail: () => tail.join('\n'),
    exited: () => exited,
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
