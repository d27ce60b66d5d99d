import { readFile } from 'node:fs/promises';
import type { GrantlineClient, IdentitySource } from '@grantline/sdk';
import type { Command } from 'commander';
import { grantlineHome } from '../config/home';
import { errLines } from './cli-output';

/**
 * What every client command shares. The HTTP client is `@grantline/sdk`, loaded only when a command runs
 * (never for `--help`): the CLI has no client of its own.
 */

export const DEFAULT_BROKER_URL = 'http://127.0.0.1:8080';

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

const sdk = () => import('@grantline/sdk');

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

async function devIdentity(spiffeId: string, env: NodeJS.ProcessEnv): Promise<IdentitySource> {
  const { devTrustDomain } = await sdk();
  try {
    return devTrustDomain({ spiffeId, home: grantlineHome(env) });
  } catch (err) {
    throw new CliFailure(`cannot mint a dev SVID for ${spiffeId}: ${(err as Error).message}`, [
      '  --as only works with the dev trust domain (spiffe://dev.grantline.local) under $GRANTLINE_HOME;',
      '  otherwise pass --svid <file> with an SVID from your SPIFFE provider',
    ]);
  }
}

async function workloadIdentity(env: NodeJS.ProcessEnv): Promise<IdentitySource> {
  const socket = env.SPIFFE_ENDPOINT_SOCKET?.trim();
  if (!socket)
    throw new CliFailure('--workload-api needs SPIFFE_ENDPOINT_SOCKET (e.g. unix:///run/spire/agent.sock)');
  const { workloadApi } = await sdk();
  return workloadApi({ socket, ...(env.GRANTLINE_SPIFFE_ID ? { spiffeId: env.GRANTLINE_SPIFFE_ID } : {}) });
}

/**
 * Who the caller is: a JWT-SVID file (--svid), the dev trust domain (--as), or the SPIFFE Workload API
 * (--workload-api, or by default when SPIFFE_ENDPOINT_SOCKET is set and neither other option is given).
 */
export async function identityFrom(
  opts: Pick<ClientOptions, 'svid' | 'as' | 'workloadApi'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IdentitySource> {
  const given = [opts.svid, opts.as, opts.workloadApi].filter(Boolean).length;
  if (given > 1) throw new CliFailure('give one of --svid <file>, --as <spiffe-id> or --workload-api');
  if (opts.svid) return (await sdk()).staticToken(await readSvidFile(opts.svid));
  if (opts.as) return devIdentity(opts.as, env);
  if (opts.workloadApi || env.SPIFFE_ENDPOINT_SOCKET) return workloadIdentity(env);
  throw new CliFailure('who are you? give --svid <file>, --as <spiffe-id> or --workload-api');
}

function checkedUrl(url: string): string {
  if (!URL.canParse(url)) throw new CliFailure(`--broker ${url} is not a URL (e.g. ${DEFAULT_BROKER_URL})`);
  if (!/^https?:$/.test(new URL(url).protocol))
    throw new CliFailure(`--broker ${url} must be an http:// or https:// URL`);
  return url;
}

/** The --broker URL checked (http or https) and without a trailing slash. */
export function normaliseBaseUrl(url: string): string {
  return checkedUrl(url).replace(/\/+$/, '');
}

/** Is a broker answering `/healthz` at `url`? (No SVID needed: liveness is public.) */
export async function brokerIsUp(url: string, timeoutMs = 1500): Promise<boolean> {
  const base = normaliseBaseUrl(url);
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    // Refused, reset or timed out: nothing usable answers there.
    return false;
  }
}

/**
 * An `@grantline/sdk` client for the command's broker and identity; `close` also closes the identity
 * source (a Workload API stream would otherwise keep the process alive).
 */
export async function clientFrom(
  opts: ClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GrantlineClient> {
  const url = checkedUrl(brokerUrl(opts, env));
  const identity = await identityFrom(opts, env);
  const client = (await sdk()).createGrantlineClient({ url, identity, audience: devAudience(env) });
  return {
    ...client,
    async close() {
      await client.close();
      await identity.close?.();
    },
  };
}

/** Runs `fn` with a client for the command, and closes it after. */
export async function withClient<T>(opts: ClientOptions, fn: (c: GrantlineClient) => Promise<T>): Promise<T> {
  const client = await clientFrom(opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function detailValue(value: unknown): string {
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('; ');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `error: <description> (<code>)` then one line per detail (reasons, limit, unknown_scopes …). */
export function brokerErrorLines(err: { message: string; details: Record<string, unknown> }): string[] {
  const lines = [`error: ${err.message}`];
  for (const [key, value] of Object.entries(err.details)) {
    if (value !== undefined && value !== null) lines.push(`  ${key}: ${detailValue(value)}`);
  }
  return lines;
}

/** Prints a known failure to stderr and sets exit code 1; anything else propagates (a bug, with its message). */
export async function reportFailure(err: unknown): Promise<boolean> {
  if (err instanceof CliFailure) errLines(err.lines);
  else {
    const { BrokerError, BrokerUnreachableError, IdentityError } = await sdk();
    if (err instanceof BrokerError) errLines(brokerErrorLines(err));
    else if (err instanceof BrokerUnreachableError || err instanceof IdentityError)
      errLines([`error: ${err.message}`]);
    else return false;
  }
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
      if (!(await reportFailure(err))) throw err;
    }
  };
}
