import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type ManagedChild, spawnManaged } from '../openbao/child-process';
import {
  agentSocket,
  renderAgentConf,
  renderServerConf,
  type SpireConfInput,
  serverSocket,
} from './spire-conf';

const run = promisify(execFile);

export interface SpireStackOptions {
  /** A short, absolute directory (Unix socket paths are limited to 107 bytes). */
  dir: string;
  trustDomain: string;
  serverBin: string;
  agentBin: string;
  bundleEndpoint?: boolean;
  caTtl?: string;
  x509SvidTtl?: string;
  jwtSvidTtl?: string;
}

export interface EntryInput {
  spiffeId: string;
  selectors: string[];
  x509SvidTtlSeconds?: number;
  jwtSvidTtlSeconds?: number;
  federatesWith?: string[];
}

export interface SpireStack {
  readonly trustDomain: string;
  readonly dir: string;
  readonly serverSocket: string;
  readonly agentSocket: string;
  /** The agent's Workload API address, for SPIFFE_ENDPOINT_SOCKET. */
  readonly endpoint: string;
  /** The node alias every workload entry hangs under. */
  readonly nodeId: string;
  readonly bundleEndpointUrl: string | undefined;
  readonly version: string;
  /** Runs `spire-server <command…> -socketPath <server socket> <args…>` and returns stdout. */
  serverCli(command: string[], args?: string[]): Promise<string>;
  createEntry(entry: EntryInput): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitHealthy(bin: string, socket: string, child: ManagedChild, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exited()) throw new Error(`${what} exited during start-up:\n${child.stderrTail()}`);
    const ok = await run(bin, ['healthcheck', '-socketPath', socket]).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${what} did not become healthy within 60 s (see its log in the stack directory)`);
}

/**
 * Starts a SPIRE server and one agent attested with a join token (alias `spiffe://<td>/node`), with the
 * `unix` workload attestor: entries select workloads by `unix:uid:<n>`. Both die with this process.
 */
export async function startSpireStack(opts: SpireStackOptions): Promise<SpireStack> {
  const conf: SpireConfInput = {
    dir: opts.dir,
    trustDomain: opts.trustDomain,
    serverPort: await freePort(),
    ...(opts.bundleEndpoint ? { bundleEndpointPort: await freePort() } : {}),
    caTtl: opts.caTtl ?? '24h',
    x509SvidTtl: opts.x509SvidTtl ?? '1h',
    jwtSvidTtl: opts.jwtSvidTtl ?? '5m',
  };
  await mkdir(`${opts.dir}/server`, { recursive: true });
  await mkdir(`${opts.dir}/agent`, { recursive: true });
  // Workloads under other uids must reach the agent socket (the agent makes the socket itself 0777).
  await chmod(opts.dir, 0o755);
  await writeFile(`${opts.dir}/server.conf`, renderServerConf(conf));
  await writeFile(`${opts.dir}/agent.conf`, renderAgentConf(conf));
  const children: ManagedChild[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await child.stop();
  };
  const serverCli = async (command: string[], args: string[] = []) =>
    (await run(opts.serverBin, [...command, '-socketPath', serverSocket(opts.dir), ...args])).stdout;
  try {
    const server = spawnManaged(opts.serverBin, ['run', '-config', `${opts.dir}/server.conf`]);
    children.push(server);
    await waitHealthy(opts.serverBin, serverSocket(opts.dir), server, 'spire-server');
    await writeFile(`${opts.dir}/bootstrap.crt`, await serverCli(['bundle', 'show']));
    const nodeId = `spiffe://${opts.trustDomain}/node`;
    const tokenOut = await serverCli(['token', 'generate'], ['-spiffeID', nodeId, '-ttl', '600']);
    const token = /Token: (\S+)/.exec(tokenOut)?.[1];
    if (!token) throw new Error('spire-server token generate printed no token');
    const agent = spawnManaged(opts.agentBin, [
      'run',
      '-config',
      `${opts.dir}/agent.conf`,
      '-joinToken',
      token,
    ]);
    children.push(agent);
    await waitHealthy(opts.agentBin, agentSocket(opts.dir), agent, 'spire-agent');
    await chmod(`${opts.dir}/agent`, 0o755);
    const version = (await run(opts.serverBin, ['--version'])).stderr.trim() || 'unknown';
    return {
      trustDomain: opts.trustDomain,
      dir: opts.dir,
      serverSocket: serverSocket(opts.dir),
      agentSocket: agentSocket(opts.dir),
      endpoint: `unix://${agentSocket(opts.dir)}`,
      nodeId,
      bundleEndpointUrl: conf.bundleEndpointPort ? `https://127.0.0.1:${conf.bundleEndpointPort}` : undefined,
      version,
      serverCli,
      async createEntry(e) {
        const args = [
          '-parentID',
          nodeId,
          '-spiffeID',
          e.spiffeId,
          ...e.selectors.flatMap((s) => ['-selector', s]),
        ];
        if (e.x509SvidTtlSeconds) args.push('-x509SVIDTTL', String(e.x509SvidTtlSeconds));
        if (e.jwtSvidTtlSeconds) args.push('-jwtSVIDTTL', String(e.jwtSvidTtlSeconds));
        for (const td of e.federatesWith ?? []) args.push('-federatesWith', td);
        const out = await serverCli(['entry', 'create'], args);
        return /Entry ID\s*:\s*(\S+)/.exec(out)?.[1] ?? '';
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
