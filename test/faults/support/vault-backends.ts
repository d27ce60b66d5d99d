import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBao } from '../../../server/dev/openbao/find-bao';
import { startOpenBaoDev } from '../../../server/dev/openbao/openbao-dev-server';
import { projectRoot } from './build-dist';
import { cleanEnv, freePort, spawnLogged } from './processes';

/** A Vault that runs outside every broker, so its tokens and leases outlive a killed broker. */
export interface VaultBackend {
  name: VaultBackendName;
  url: string;
  /** The root token: a secret of the test, never logged. */
  rootToken: string;
  version: string;
  /** The database secrets engine must be mounted by the client (OpenBao dev) or is built in (dev Vault). */
  mountsDatabase: boolean;
  stop(): Promise<void>;
}

export type VaultBackendName = 'devvault' | 'openbao';

async function waitHealthy(url: string, exited: () => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(`${url}/v1/sys/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return String(((await res.json()) as { version?: string }).version ?? '?');
      await res.body?.cancel();
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the Vault at ${url} did not become healthy`);
}

/** `grantline devvault` as a child process (the standalone dev Vault, in memory). */
async function startDevVaultProcess(logFile: string): Promise<VaultBackend> {
  const port = await freePort();
  const rootToken = `hvs.faults${randomBytes(12).toString('hex')}`;
  const child = spawnLogged(
    process.execPath,
    [path.join(projectRoot, 'bin/grantline.js'), 'devvault', '--port', String(port)],
    { env: cleanEnv({ VAULT_DEV_ROOT_TOKEN_ID: rootToken }), cwd: projectRoot, logFile },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    const version = await waitHealthy(url, child.hasExited, 30_000);
    return {
      name: 'devvault',
      url,
      rootToken,
      version: `grantline devvault ${version}`,
      mountsDatabase: false,
      async stop() {
        child.kill('SIGTERM');
        await Promise.race([child.exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
        await child.exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${child.tail()}`);
  }
}

async function startOpenBao(baoPath: string): Promise<VaultBackend> {
  const bao = await startOpenBaoDev(baoPath);
  return {
    name: 'openbao',
    url: bao.url,
    rootToken: bao.rootToken,
    version: `OpenBao ${bao.version}`,
    mountsDatabase: true,
    stop: () => bao.stop(),
  };
}

export interface BackendChoice {
  name: VaultBackendName;
  start(logFile: string): Promise<VaultBackend>;
}

/**
 * The Vaults every fault test runs against: the dev Vault always, OpenBao when its binary is installed
 * (on PATH or in the tools cache). `FAULTS_VAULTS=devvault|openbao` narrows it for a local run.
 */
export function vaultBackends(): BackendChoice[] {
  const bao = findBao();
  const all: BackendChoice[] = [{ name: 'devvault', start: startDevVaultProcess }];
  if (bao) all.push({ name: 'openbao', start: () => startOpenBao(bao) });
  const only = process.env.FAULTS_VAULTS?.split(',').map((s) => s.trim());
  return only ? all.filter((b) => only.includes(b.name)) : all;
}

/** One line saying which Vaults this file runs against and which it cannot. */
export function describeBackends(file: string): string {
  const names = vaultBackends().map((b) => b.name);
  const missing = findBao() ? '' : ' (OpenBao not installed: run npm run tools:install to add it)';
  return `${file}: running against ${names.join(' and ')}${missing}`;
}
