import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findBao } from '../server/dev/openbao/find-bao';
import { startOpenBaoDev } from '../server/dev/openbao/openbao-dev-server';

/** The CLI the bench starts its processes with (dist/scripts → bin/). */
export const GRANTLINE_BIN = path.resolve(__dirname, '..', '..', 'bin', 'grantline.js');

export type VaultKind = 'devvault' | 'openbao';

export interface VaultProcess {
  kind: VaultKind;
  addr: string;
  /** The dev root token (a secret: never logged, never written to results). */
  token: string;
  version: string;
  pid: number;
  stop(): Promise<void>;
}

/** Our environment without anything aimed at a Vault client, a database or a profiler. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(VAULT_|BAO_|DATABASE_URL$|NODE_OPTIONS$|GRANTLINE_)/.test(k),
    ),
  );
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `grantline devvault` in a process of its own; its first two stdout lines say where and with which token. */
export async function startDevVaultProcess(adminUrl: string): Promise<VaultProcess> {
  const child = spawn(
    process.execPath,
    [GRANTLINE_BIN, 'devvault', '--port', '0', '--database-url', adminUrl],
    { env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const found: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the dev Vault did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the dev Vault exited (${code})`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (const m of buffered.matchAll(/^(VAULT_ADDR|VAULT_TOKEN)=(\S+)$/gm)) found[m[1]!] = m[2]!;
      if (found.VAULT_ADDR && found.VAULT_TOKEN) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout!.resume();
  return {
    kind: 'devvault',
    addr: found.VAULT_ADDR!,
    token: found.VAULT_TOKEN!,
    version: 'grantline dev Vault',
    pid: child.pid ?? -1,
    stop: () => stopChild(child, 10_000),
  };
}

/** `bao server -dev` (OpenBao from PATH or the tools cache), or undefined when it is not installed. */
export async function startOpenBaoProcess(): Promise<VaultProcess | undefined> {
  const bao = findBao();
  if (!bao) return undefined;
  const server = await startOpenBaoDev(bao);
  return {
    kind: 'openbao',
    addr: server.url,
    token: server.rootToken,
    version: `OpenBao ${server.version}`,
    pid: server.pid,
    stop: () => server.stop(),
  };
}

export interface BrokerProcess {
  url: string;
  pid: number;
  /** The worker processes (children of the primary). */
  workerPids(): number[];
  stop(): Promise<void>;
}

const READY = /grantline is ready at (http\S+)/;

/** `grantline serve --workers N` with its output in `logFile`; resolves once every worker listens. */
export async function startBrokerProcess(o: {
  env: NodeJS.ProcessEnv;
  workers: number;
  logFile: string;
  /** Node options for the primary and (node:cluster passes them on) every worker, e.g. `--cpu-prof`. */
  execArgv?: string[];
}): Promise<BrokerProcess> {
  const fd = fs.openSync(o.logFile, 'w');
  const args = [...(o.execArgv ?? []), GRANTLINE_BIN, 'serve', '--workers', String(o.workers)];
  const child = spawn(process.execPath, args, {
    env: o.env,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  while (!url) {
    if (child.exitCode !== null) throw new Error(`the broker exited (${child.exitCode}); see ${o.logFile}`);
    if (Date.now() > deadline) {
      await stopChild(child, 5000);
      throw new Error(`the broker did not start within 90 s; see ${o.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    url = READY.exec(fs.readFileSync(o.logFile, 'utf8'))?.[1];
  }
  const pid = child.pid ?? -1;
  return { url, pid, workerPids: () => childrenOf(pid), stop: () => stopChild(child, 40_000) };
}

/** Processes whose parent is `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command is in parentheses and may contain spaces: fields resume after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}
