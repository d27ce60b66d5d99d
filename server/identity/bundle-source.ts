import { open } from 'node:fs/promises';
import path from 'node:path';
import { BundleError, IdentityConfigError } from './identity.errors';

/** Where one trust domain's bundle comes from: a file, or a SPIFFE bundle endpoint / JWKS URL. */
export interface BundleSource {
  /** The location, for logs (never contains a secret: bundles are public). */
  readonly location: string;
  /** `current`: the trust domain's bundle in use (an `https_spiffe` endpoint is authenticated with it). */
  load(current?: import('./trust-bundle').TrustBundle): Promise<string>;
}

export interface BundleSourceOptions {
  /** Tests only: allow `http://` on loopback. Production bundle URLs must be https (federation §5). */
  allowInsecureBundleUrls?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function fileSource(location: string, maxBytes: number): BundleSource {
  const file = path.resolve(location);
  return {
    location: file,
    async load() {
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        if (size > maxBytes) throw new BundleError(`bundle file is larger than ${maxBytes} bytes`);
        return await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    },
  };
}

/** Reads a response body up to `maxBytes`, so a hostile endpoint cannot exhaust memory. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new BundleError(`bundle response is larger than ${maxBytes} bytes`);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new BundleError(`bundle response is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function urlSource(url: URL, timeoutMs: number, maxBytes: number): BundleSource {
  return {
    location: url.href,
    async load() {
      // Redirects are refused: the configured URL is the endpoint (federation: URL, profile and trust
      // domain are configured explicitly, none inferred).
      const res = await fetch(url, {
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new BundleError(`bundle endpoint answered HTTP ${res.status}`);
      }
      return readCapped(res, maxBytes);
    },
  };
}

function parseUrl(location: string, opts: BundleSourceOptions): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new IdentityConfigError(`bundle source ${location} is not a valid URL`);
  }
  if (url.username || url.password) throw new IdentityConfigError('a bundle URL cannot carry credentials');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && opts.allowInsecureBundleUrls && LOOPBACK_HOSTS.has(url.hostname))
    return url;
  throw new IdentityConfigError(`bundle source ${url.origin} must use https`);
}

/** `https://…` (or loopback `http://…` in tests) is fetched; anything without a scheme is a file path. */
export function createBundleSource(location: string, opts: BundleSourceOptions = {}): BundleSource {
  const trimmed = location.trim();
  if (trimmed.length === 0) throw new IdentityConfigError('a bundle source cannot be empty');
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    return urlSource(parseUrl(trimmed, opts), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBytes);
  }
  return fileSource(trimmed, maxBytes);
}
