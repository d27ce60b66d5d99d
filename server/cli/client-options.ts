import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { grantlineHome } from '../config/home';
import {
  type BrokerClient,
  BrokerHttpError,
  BrokerUnreachable,
  createBrokerClient,
  formatBrokerError,
} from './broker-client';
import { errLines } from './cli-output';

export const DEFAULT_BROKER_URL = 'http://127.0.0.1:8080';
const DEV_SVID_TTL_SECONDS = 300;

/** The options every client command takes. */
export interface ClientOptions {
  broker?: string;
  svid?: string;
  as?: string;
  workloadApi?: boolean;
  json?: boolean;
}

/** A failure the CLI reports in its own words (no stack), exit code 1. */
export class CliFailure extends Error {
  readonly lines: string[];
  constructor(message: string, extraLines: string[] = []) {
    super(message);
    this.name = 'CliFailure';
    this.lines = [`error: ${message}`, ...extraLines];
  }
}

export function withClientOptions(cmd: Command): Command {
  return cmd
    .option('--broker <url>', `the broker URL (default: $GRANTLINE_URL or ${DEFAULT_BROKER_URL})`)
    .option('--svid <file>', 'a file holding your JWT-SVID')
    .option(
      '--as <spiffe-id>',
      'mint a JWT-SVID for this SPIFFE ID from the dev trust domain in $GRANTLINE_HOME',
    )
    .option(
      '--workload-api',
      'get a JWT-SVID from the SPIFFE Workload API (default when SPIFFE_ENDPOINT_SOCKET is set)',
    )
    .option('--json', 'print the raw JSON response');
}

/** --broker, else $GRANTLINE_URL, else the local default. */
export function brokerUrl(opts: { broker?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return opts.broker || env.GRANTLINE_URL || DEFAULT_BROKER_URL;
}

export function devAudience(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRANTLINE_AUDIENCE || 'grantline';
}

/** Mints a dev JWT-SVID (5 min); a failure explains that this needs the dev trust domain. */
export async function mintDevSvid(spiffeId: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    // The dev trust domain is dev code (server/dev), loaded only when `--as` asks for it.
    const { mintDevJwtSvid } = await import('../dev/identity/dev-trust-domain.js');
    return await mintDevJwtSvid({
      home: grantlineHome(env),
      spiffeId,
      audience: devAudience(env),
      ttlSeconds: DEV_SVID_TTL_SECONDS,
    });
  } catch (err) {
    throw new CliFailure(`cannot mint a dev SVID for ${spiffeId}: ${(err as Error).message}`, [
      '  --as only works with the dev trust domain (spiffe://dev.grantline.local) under $GRANTLINE_HOME;',
      '  otherwise pass --svid <file> with an SVID from your SPIFFE provider',
    ]);
  }
}

async function readSvidFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(
      `cannot read --svid ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const token = text.trim();
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token))
    throw new CliFailure(`--svid ${file} does not hold a JWT-SVID`);
  return token;
}

/** The caller's SVID as a lazy, memoised source: from --svid, or minted for --as. */
async function workloadSvid(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    // gRPC loads only when the Workload API is used: every other command starts without it.
    const { fetchWorkloadSvid } = await import('./workload-svid.js');
    return await fetchWorkloadSvid(devAudience(env), env);
  } catch (err) {
    throw new CliFailure(`cannot get an SVID from the Workload API: ${(err as Error).message}`);
  }
}

/**
 * The caller's SVID as a lazy, memoised source: from --svid, minted for --as, or fetched from the
 * Workload API (--workload-api, or by default when SPIFFE_ENDPOINT_SOCKET is set and neither is given).
 */
export function svidSource(
  opts: Pick<ClientOptions, 'svid' | 'as' | 'workloadApi'>,
  env: NodeJS.ProcessEnv = process.env,
) {
  const given = [opts.svid, opts.as, opts.workloadApi].filter(Boolean).length;
  if (given > 1) throw new CliFailure('give one of --svid <file>, --as <spiffe-id> or --workload-api');
  const fromWorkloadApi = opts.workloadApi || (given === 0 && Boolean(env.SPIFFE_ENDPOINT_SOCKET));
  if (given === 0 && !fromWorkloadApi)
    throw new CliFailure('who are you? give --svid <file>, --as <spiffe-id> or --workload-api');
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= fromWorkloadApi
      ? workloadSvid(env)
      : opts.svid
        ? readSvidFile(opts.svid)
        : mintDevSvid(opts.as as string, env);
    return cached;
  };
}

export function clientFrom(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env): BrokerClient {
  return createBrokerClient({ baseUrl: brokerUrl(opts, env), svid: svidSource(opts, env) });
}

/** Prints a known failure to stderr and sets exit code 1; anything else propagates (a bug, with its message). */
export function reportFailure(err: unknown): boolean {
  if (err instanceof BrokerHttpError) errLines(formatBrokerError(err));
  else if (err instanceof BrokerUnreachable) errLines([`error: ${err.message}`]);
  else if (err instanceof CliFailure) errLines(err.lines);
  else return false;
  process.exitCode = 1;
  return true;
}

/**
 * Wraps a command action: broker errors and CLI failures become `error: …` on stderr and exit code 1
 * (process.exitCode, not process.exit, so in-process callers and pending cleanups still run).
 */
export function clientAction<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!reportFailure(err)) throw err;
    }
  };
}
