import { X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { IdentityError } from '../errors';
import type { WorkloadApiClient, X509Context } from '../workload-api';
import type { IdentitySource, X509Svid } from './identity-source';
import { refreshBeforeExpiry } from './refresh';

export interface WorkloadApiOptions {
  /** The identity to use when the workload has several (recommended); default: the agent's first. */
  spiffeId?: string;
  /** The Workload API address (`unix:///path` or `tcp://IP:port`); default `$SPIFFE_ENDPOINT_SOCKET`. */
  socket?: string;
  /** Deadline of each call (default 10 s). */
  timeoutMs?: number;
  /** Tries for a call the agent refused for now (Unavailable, or PermissionDenied while an entry syncs). */
  attempts?: number;
  now?: () => number;
}

export interface WorkloadApiSource extends IdentitySource {
  /** The SPIFFE ID this source speaks for (asks the agent when none was given). */
  spiffeId(): Promise<string>;
  x509Svid(): Promise<X509Svid>;
  close(): void;
}

interface X509Follow {
  latest: X509Context | undefined;
  close(): void;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `fn` again after errors the Workload API calls retryable, with a short linear backoff. */
async function retrying<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !(err as { retryable?: boolean }).retryable) throw err;
      await pause(250 * i);
    }
  }
}

function asIdentityError(what: string, err: unknown): IdentityError {
  return new IdentityError(`cannot get ${what} from the SPIFFE Workload API: ${(err as Error).message}`, {
    cause: err,
  });
}

/** The X509-SVID of `ctx` for `spiffeId` (or its default identity), in the form the client's TLS uses. */
function pickX509(ctx: X509Context, spiffeId: string | undefined): X509Svid {
  const svid = spiffeId ? ctx.svids.find((s) => s.spiffeId === spiffeId) : ctx.svids[0];
  if (!svid)
    throw new IdentityError(`the Workload API holds no X509-SVID for ${spiffeId ?? 'this workload'}`);
  const leaf = svid.certificates[0] ?? new X509Certificate(svid.certChainPem);
  return {
    certChainPem: svid.certChainPem,
    keyPem: svid.keyPem,
    bundlePem: svid.bundlePem,
    expiresAt: new Date(leaf.validTo),
  };
}

/**
 * The SPIFFE Workload API (a SPIRE agent) as an identity source: JWT-SVIDs fetched per audience and
 * fetched again at half their life (as SPIRE's own clients do), and the X509-SVID for mTLS followed on its
 * stream, so a rotated certificate is used from the next connection on. The gRPC client is loaded on
 * first use: code that never calls this pays nothing for it.
 */
export function workloadApi(opts: WorkloadApiOptions = {}): WorkloadApiSource {
  const now = opts.now ?? Date.now;
  const attempts = opts.attempts ?? 4;
  let client: Promise<WorkloadApiClient> | undefined;
  let x509: Promise<X509Follow> | undefined;
  const perAudience = new Map<string, () => Promise<string>>();

  const connect = () => {
    client ??= import('../workload-api/index.js').then((m) =>
      m.createWorkloadApiClient({
        ...(opts.socket ? { address: opts.socket } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      }),
    );
    return client.catch((err: unknown) => {
      client = undefined;
      throw asIdentityError('a client', err);
    });
  };

  const fetchJwt = async (audience: string) => {
    const c = await connect();
    const svid = await retrying(attempts, () =>
      c.fetchJwtSvid({ audience, ...(opts.spiffeId ? { spiffeId: opts.spiffeId } : {}) }),
    ).catch((err: unknown) => {
      throw asIdentityError(`a JWT-SVID for ${audience}`, err);
    });
    const claims = decodeJwt(svid.token);
    if (typeof claims.exp !== 'number')
      throw new IdentityError('the Workload API gave a JWT-SVID without exp');
    const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : now();
    return { value: svid.token, issuedAt: new Date(issuedAt), expiresAt: new Date(claims.exp * 1000) };
  };

  /** One FetchX509SVID stream for the source's life: every message replaces the current SVIDs. */
  const startFollow = async (): Promise<X509Follow> => {
    const c = await connect();
    const follow: X509Follow = { latest: undefined, close: () => undefined };
    const watch = c.watchX509Context(
      {
        onUpdate: (ctx) => {
          follow.latest = ctx;
        },
        onError: () => undefined,
      },
      { readyTimeoutMs: opts.timeoutMs ?? 10_000 },
    );
    follow.close = () => watch.close();
    try {
      await watch.ready;
    } catch (err) {
      watch.close();
      throw asIdentityError('an X509-SVID', err);
    }
    return follow;
  };

  const currentX509 = async (): Promise<X509Context> => {
    x509 ??= startFollow().catch((err: unknown) => {
      x509 = undefined;
      throw err;
    });
    return (await x509).latest!;
  };

  return {
    jwtSvid(audience) {
      let get = perAudience.get(audience);
      if (!get) {
        get = refreshBeforeExpiry(() => fetchJwt(audience), { now });
        perAudience.set(audience, get);
      }
      return get();
    },
    async x509Svid() {
      return pickX509(await currentX509(), opts.spiffeId);
    },
    async spiffeId() {
      if (opts.spiffeId) return opts.spiffeId;
      const first = (await currentX509()).svids[0];
      if (!first) throw new IdentityError('the Workload API holds no identity for this workload');
      return first.spiffeId;
    },
    close() {
      void x509?.then(
        (f) => f.close(),
        () => undefined,
      );
      x509 = undefined;
      void client?.then(
        (c) => c.close(),
        () => undefined,
      );
      client = undefined;
    },
  };
}
