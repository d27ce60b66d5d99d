/** The broker's error body (DESIGN "HTTP API"): a code, a sentence, and details such as reasons or limit. */
export interface BrokerErrorBody {
  error: string;
  error_description?: string;
  [detail: string]: unknown;
}

/** The broker answered, but not with 2xx. */
export class BrokerHttpError extends Error {
  readonly status: number;
  readonly body: BrokerErrorBody;
  constructor(status: number, body: BrokerErrorBody) {
    super(`${body.error_description ?? `HTTP ${status}`} (${body.error})`);
    this.name = 'BrokerHttpError';
    this.status = status;
    this.body = body;
  }
}

/** The broker did not answer at all (refused, DNS, timeout). */
export class BrokerUnreachable extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`cannot reach the broker at ${url}: ${describeCause(cause)}`, { cause });
    this.name = 'BrokerUnreachable';
    this.url = url;
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  if (inner?.code) return inner.code === 'ECONNREFUSED' ? 'connection refused (is it running?)' : inner.code;
  if (inner?.message) return inner.message;
  if ((cause as Error)?.name === 'TimeoutError') return 'timed out';
  return (cause as Error)?.message ?? String(cause);
}

export interface BrokerClientOptions {
  baseUrl: string;
  /** The caller's JWT-SVID, sent as a Bearer token on every call. */
  svid: () => Promise<string>;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export interface BrokerClient {
  readonly baseUrl: string;
  svid(): Promise<string>;
  get<T = unknown>(path: string): Promise<T>;
  postJson<T = unknown>(path: string, body: unknown): Promise<T>;
  postForm<T = unknown>(path: string, form: Record<string, string>): Promise<T>;
}

export function normaliseBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--broker ${url} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`--broker ${url} must be an http:// or https:// URL`);
  return url.replace(/\/+$/, '');
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function asErrorBody(status: number, body: unknown): BrokerErrorBody {
  if (body && typeof body === 'object' && typeof (body as BrokerErrorBody).error === 'string')
    return body as BrokerErrorBody;
  return { error: 'http_error', error_description: `the broker answered HTTP ${status}` };
}

/** A small fetch client for the broker's API: every call carries the caller's SVID as a Bearer token. */
export function createBrokerClient(opts: BrokerClientOptions): BrokerClient {
  const baseUrl = normaliseBaseUrl(opts.baseUrl);
  const doFetch = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  async function call<T>(method: string, path: string, body?: { type: string; payload: string }): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await opts.svid()}`,
      accept: 'application/json',
    };
    if (body) headers['content-type'] = body.type;
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body ? { body: body.payload } : {}),
      });
    } catch (err) {
      throw new BrokerUnreachable(baseUrl, err);
    }
    const parsed = await readBody(res);
    if (!res.ok) throw new BrokerHttpError(res.status, asErrorBody(res.status, parsed));
    return parsed as T;
  }

  return {
    baseUrl,
    svid: opts.svid,
    get: (path) => call('GET', path),
    postJson: (path, payload) =>
      call('POST', path, { type: 'application/json', payload: JSON.stringify(payload ?? {}) }),
    postForm: (path, form) =>
      call('POST', path, {
        type: 'application/x-www-form-urlencoded',
        payload: new URLSearchParams(form).toString(),
      }),
  };
}

function detailValue(value: unknown): string {
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('; ');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `error: <description> (<code>)` then one line per detail (reasons, limit, unknown_scopes …). */
export function formatBrokerError(err: BrokerHttpError): string[] {
  const { error, error_description: description, ...details } = err.body;
  const lines = [`error: ${description ?? `HTTP ${err.status}`} (${error})`];
  for (const [key, value] of Object.entries(details)) {
    if (value !== undefined && value !== null) lines.push(`  ${key}: ${detailValue(value)}`);
  }
  return lines;
}

/** Is a broker answering `/healthz` at `url`? (No SVID needed: liveness is public.) */
export async function brokerIsUp(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${normaliseBaseUrl(url)}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
