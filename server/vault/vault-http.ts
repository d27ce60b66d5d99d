import { Agent, request } from 'undici';
import type { VaultConfig } from './vault.types';

/** Per call: the acting token's headers and, when longer than the client's, the call's own timeout. */
export interface RawRequestOptions {
  headers: Record<string, string>;
  timeoutMs?: number;
}

/** The three Vault HTTP calls the adapter uses. */
export interface RawVaultClient {
  read(path: string, requestOptions: RawRequestOptions): Promise<unknown>;
  write(path: string, data: object, requestOptions: RawRequestOptions): Promise<unknown>;
  list(path: string, requestOptions: RawRequestOptions): Promise<unknown>;
}

/** What the transport classifies (vault.errors.ts): Vault answered, with this status and body. */
class VaultHttpError extends Error {
  readonly response: { statusCode: number; body: unknown };
  constructor(statusCode: number, body: unknown) {
    const first = (body as { errors?: unknown[] } | null)?.errors?.[0];
    super(typeof first === 'string' ? first : `Status ${statusCode}`);
    this.response = { statusCode, body };
  }
}

// undici's own timeout codes, named as the transport's deadline names them.
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** A network failure keeps only its code: undici errors may carry the request (and its token header). */
function networkError(err: unknown): Error {
  const raw = err as { code?: unknown; cause?: { code?: unknown } } | null;
  let code = typeof raw?.code === 'string' ? raw.code : undefined;
  // A refused or reset connection surfaces as the socket's error, sometimes wrapped as `cause`.
  if ((code === undefined || code === 'UND_ERR_SOCKET') && typeof raw?.cause?.code === 'string')
    code = raw.cause.code;
  if (code && TIMEOUT_CODES.has(code)) code = 'ETIMEDOUT';
  return Object.assign(new Error('Vault request failed'), { code: code ?? 'network error' });
}

/** JSON when it is JSON; otherwise the text (a proxy's error page), as an HTTP client library would. */
function parseBody(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface VaultHttpOptions {
  strictSSL: boolean;
  tls: { ca?: string; cert?: string; key?: string };
}

/**
 * Vault's HTTP API over one undici Agent: keep-alive connections reused across calls (a grant makes
 * several), no per-call client objects. Same contract as node-vault's read/write/list
 * (specs/vault-api.md §7.2): 200 and 204 resolve with the body; any other status rejects with
 * `{ response: { statusCode, body } }`, except `sys/health`, whose body is the answer whatever the status.
 * No ambient default: no token, namespace or TLS setting from the environment (§7.3).
 */
export function createVaultHttpClient(config: VaultConfig, o: VaultHttpOptions): RawVaultClient {
  const base = `${config.addr.replace(/\/$/, '')}/v1/`;
  const namespace = config.namespace ?? '';
  const dispatcher = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    connect: { ...o.tls, rejectUnauthorized: o.strictSSL, timeout: config.timeoutMs },
  });

  async function send(
    method: 'GET' | 'POST',
    path: string,
    o: RawRequestOptions,
    data?: object,
  ): Promise<unknown> {
    const h: Record<string, string> = { ...o.headers };
    const timeouts =
      o.timeoutMs === undefined ? {} : { headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs };
    if (namespace) h['X-Vault-Namespace'] = namespace;
    if (data !== undefined) h['content-type'] = 'application/json';
    let statusCode: number;
    let text: string;
    try {
      const res = await request(base + path, {
        method,
        headers: h,
        dispatcher,
        ...timeouts,
        ...(data === undefined ? {} : { body: JSON.stringify(data) }),
      });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw networkError(err);
    }
    const body = parseBody(text);
    if (statusCode === 200 || statusCode === 204 || path.startsWith('sys/health')) return body;
    throw new VaultHttpError(statusCode, body);
  }

  return {
    read: (path, opts) => send('GET', path, opts),
    write: (path, data, opts) => send('POST', path, opts, data),
    // LIST as `GET …?list=true`: Vault takes both, and proxies pass GET where they may refuse a custom verb.
    list: (path, opts) => send('GET', `${path}?list=true`, opts),
  };
}
