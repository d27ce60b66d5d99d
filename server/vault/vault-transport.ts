import { performance } from 'node:perf_hooks';
import { insideUnitOfWork } from '../db/unit-of-work';
import { InternalError, InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { classifyVaultError, VaultNotFound, VaultUnavailable } from './vault.errors';
import type { RawVaultClient } from './vault-client';

/** One Vault request. `token` is the acting token (absent only for unauthenticated `sys/health`). */
export interface VaultCall {
  op: string;
  method: 'read' | 'write' | 'list';
  path: string;
  token?: string;
  body?: object;
  /** Safe to repeat: only these are retried when Vault is unavailable. */
  idempotent: boolean;
  /** Ids to log with the call (accessor, lease id): never a token or a secret value. */
  logFields?: Record<string, string>;
  /** A longer deadline for a call whose work grows with what it acts on (never shorter than the default). */
  deadlineMs?: number;
}

export interface VaultTransport {
  call(c: VaultCall): Promise<unknown>;
}

interface TransportOptions {
  client: RawVaultClient;
  logger: Logger;
  timeoutMs: number;
  retries: number;
  /** Base of the exponential backoff between retries; tests shorten it. */
  backoffBaseMs?: number;
}

// Relative Vault API path: no leading slash, no empty or dot segments, no query or fragment.
const PATH_RE = /^[A-Za-z0-9_\-.@+=:,]+(\/[A-Za-z0-9_\-.@+=:,]+)*$/;

export function assertVaultPath(path: string): void {
  if (!PATH_RE.test(path) || path.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw new InvalidRequest(`invalid Vault path: ${JSON.stringify(path.slice(0, 200))}`);
  }
}

export function assertVaultToken(token: unknown): asserts token is string {
  // Never echo the value. An empty token would send no header at all (Vault would answer as anonymous).
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096 || /[\s\p{Cc}]/u.test(token)) {
    throw new InvalidRequest('a non-empty Vault token is required');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An HTTP client's timeouts are per phase (headers, body); the race makes the deadline hard, so a Vault that
 * trickles bytes still fails within `timeoutMs`.
 */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('Vault request timed out'), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export function createVaultTransport(opts: TransportOptions): VaultTransport {
  const log = opts.logger;
  const backoffBase = opts.backoffBaseMs ?? 100;

  const deadlineOf = (c: VaultCall) => Math.max(c.deadlineMs ?? 0, opts.timeoutMs);

  const send = (c: VaultCall): Promise<unknown> => {
    const headers: Record<string, string> = c.token === undefined ? {} : { 'X-Vault-Token': c.token };
    const o = { headers, timeoutMs: deadlineOf(c) };
    if (c.method === 'list') return opts.client.list(c.path, o);
    return c.method === 'read' ? opts.client.read(c.path, o) : opts.client.write(c.path, c.body ?? {}, o);
  };

  const logWarnings = (c: VaultCall, body: unknown) => {
    const warnings = (body as { warnings?: unknown } | null | undefined)?.warnings;
    if (Array.isArray(warnings) && warnings.length > 0) {
      log.info({ op: c.op, path: c.path, ...c.logFields, warnings }, 'vault returned warnings');
    }
  };

  async function call(c: VaultCall): Promise<unknown> {
    // A Vault call inside a transaction would hold its row locks across the network (STYLE: never).
    if (insideUnitOfWork()) throw new InternalError(`Vault ${c.op} called inside a database transaction`);
    assertVaultPath(c.path);
    if (c.token !== undefined) assertVaultToken(c.token);
    const attempts = 1 + (c.idempotent ? opts.retries : 0);
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const body = await withDeadline(send(c), deadlineOf(c));
        const ms = Math.round(performance.now() - started);
        log.debug({ op: c.op, path: c.path, ...c.logFields, ms, attempt }, 'vault call ok');
        logWarnings(c, body);
        return body;
      } catch (err) {
        const typed = classifyVaultError(err, { op: c.op, path: c.path });
        const ms = Math.round(performance.now() - started);
        const retry = typed instanceof VaultUnavailable && attempt < attempts;
        // "No such lease/accessor" is an expected answer for lookups and repeated revocations.
        const level = typed instanceof VaultNotFound ? 'debug' : 'warn';
        log[level](
          {
            op: c.op,
            path: c.path,
            ...c.logFields,
            ms,
            attempt,
            code: 'kind' in typed ? typed.kind : typed.code,
            details: typed.details,
            retry,
          },
          'vault call failed',
        );
        if (!retry) throw typed;
        await sleep(backoffBase * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      }
    }
  }

  return { call };
}

/** For lookups: Vault saying "no such lease/accessor" is an answer (null), not a failure. */
export async function nullIfNotFound(work: Promise<unknown>): Promise<unknown | null> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof VaultNotFound) return null;
    throw err;
  }
}

/** For revocations: "no such object" means the goal is already reached (revocation is idempotent). */
export async function ignoreNotFound(
  work: Promise<unknown>,
  logger: Logger,
  fields: Record<string, string>,
): Promise<void> {
  if ((await nullIfNotFound(work)) === null) logger.debug(fields, 'vault object already gone');
}
