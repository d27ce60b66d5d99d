import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ManagedChild, spawnManaged } from './child-process';

export interface OpenBaoDevServer {
  readonly url: string;
  /** The dev root token. A secret: never log it. */
  readonly rootToken: string;
  /** From sys/health, e.g. `2.7.2`. */
  readonly version: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export class OpenBaoStartFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpenBaoStartFailed';
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Polls the unauthenticated health endpoint until it answers 200 (initialised, unsealed, active). */
async function waitHealthy(url: string, child: ManagedChild, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited()) throw new OpenBaoStartFailed(`bao server -dev exited:\n${child.stderrTail()}`);
    try {
      const res = await fetch(`${url}/v1/sys/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200)
        return String(((await res.json()) as { version?: string }).version ?? 'unknown');
      await res.body?.cancel();
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new OpenBaoStartFailed(
    `bao server -dev did not become healthy within ${timeoutMs} ms:\n${child.stderrTail()}`,
  );
}

/** The child's environment: ours without Vault/OpenBao client settings, which would confuse the dev server. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAULT|BAO)_/.test(k)));
}

/**
 * Starts `bao server -dev` (in memory, unsealed, KV v2 at `secret/`) on a free loopback port with a
 * random root token, as a child process that dies with us. Retries on a port taken in between.
 */
export async function startOpenBaoDev(
  baoPath: string,
  opts: { timeoutMs?: number; attempts?: number } = {},
): Promise<OpenBaoDevServer> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (opts.attempts ?? 3); attempt++) {
    const port = await freePort();
    // A dev root token must not start with `s.` (OpenBao's service-token prefix).
    const rootToken = `grantline-dev-${randomBytes(18).toString('hex')}`;
    const child = spawnManaged(
      baoPath,
      ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token', '-log-level=warn'],
      { env: { ...childEnv(), BAO_DEV_ROOT_TOKEN_ID: rootToken } },
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      const version = await waitHealthy(url, child, opts.timeoutMs ?? 30_000);
      return { url, rootToken, version, pid: child.pid, stop: () => child.stop() };
    } catch (err) {
      await child.stop();
      lastError = err as Error;
    }
  }
  throw lastError ?? new OpenBaoStartFailed('bao server -dev did not start');
}
