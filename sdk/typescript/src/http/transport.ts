import { fetch, type Response } from 'undici';
import { BrokerUnreachableError, brokerError } from '../errors';
import type { IdentitySource } from '../identity/identity-source';
import { DEFAULT_RETRY, type RetryMode, type RetryPolicy, withRetries } from './retry';
import { brokerDispatcher, type TlsOptions } from './tls-agent';

export interface TransportOptions {
  /** The broker's base URL, e.g. `http://127.0.0.1:8080` (its mTLS listener for `mtls`). */
  url: string;
  identity: IdentitySource;
  /** The audience the broker expects in JWT-SVIDs (`GRANTLINE_AUDIENCE`, default `grantline`). */
  audience?: string;
  /** Authenticate with the identity's X509-SVID over mTLS instead of a Bearer JWT-SVID. */
  mtls?: boolean;
  tls?: TlsOptions;
  /** Per try (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface CallOptions {
  retry: RetryMode;
  json?: unknown;
  form?: Array<[string, string]>;
  /** Public endpoints (metadata, JWKS) take no SVID. */
  anonymous?: boolean;
}

export function normaliseBaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`the broker URL must be http(s): ${url}`);
  return url.replace(/\/+$/, '');
}

function retryAfter(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  return v && /^\d{1,6}$/.test(v) ? Number(v) : undefined;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The one HTTP client of the SDK: authenticates every call with the caller's SVID, maps errors, retries. */
export function createTransport(opts: TransportOptions) {
  const baseUrl = normaliseBaseUrl(opts.url);
  const audience = opts.audience ?? 'grantline';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const dispatcher = brokerDispatcher({
    identity: opts.identity,
    mtls: Boolean(opts.mtls),
    ...(opts.tls ? { tls: opts.tls } : {}),
  });

  async function headers(anonymous: boolean, extra: Record<string, string>): Promise<Record<string, string>> {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    if (!anonymous && !opts.mtls) h.authorization = `Bearer ${await opts.identity.jwtSvid(audience)}`;
    return h;
  }

  /** One request, no retry; a network failure becomes BrokerUnreachableError. */
  async function send(
    method: string,
    path: string,
    init: { headers: Record<string, string>; body?: string; signal?: AbortSignal },
  ) {
    try {
      const d = await dispatcher.get();
      return await fetch(`${baseUrl}${path}`, {
        method,
        headers: init.headers,
        signal: init.signal ?? AbortSignal.timeout(timeoutMs),
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(d ? { dispatcher: d } : {}),
      });
    } catch (err) {
      throw new BrokerUnreachableError(baseUrl, err);
    }
  }

  async function once<T>(method: string, path: string, o: CallOptions): Promise<T> {
    const extra: Record<string, string> = {};
    let body: string | undefined;
    if (o.form) {
      extra['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    } else if (o.json !== undefined) {
      extra['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const res = await send(method, path, {
      headers: await headers(Boolean(o.anonymous), extra),
      ...(body !== undefined ? { body } : {}),
    });
    const parsed = await readJson(res);
    if (!res.ok) throw brokerError(res.status, parsed, retryAfter(res));
    return parsed as T;
  }

  return {
    baseUrl,
    audience,
    mtls: Boolean(opts.mtls),
    /** The caller's current JWT-SVID (for RFC 8693 `actor_token`). */
    svid: () => opts.identity.jwtSvid(audience),
    call: <T>(method: string, path: string, o: CallOptions): Promise<T> =>
      withRetries(o.retry, policy, () => once<T>(method, path, o)),
    /** A streaming GET (the revocation feed): the caller reads the body and handles reconnects. */
    async stream(path: string, extra: Record<string, string>, signal: AbortSignal): Promise<Response> {
      const res = await send('GET', path, { headers: await headers(false, extra), signal });
      if (!res.ok) throw brokerError(res.status, await readJson(res), retryAfter(res));
      return res;
    },
    close: () => dispatcher.close(),
  };
}

export type Transport = ReturnType<typeof createTransport>;
