import type { X509Certificate } from 'node:crypto';
import type { JwtBundles, Watch, WorkloadApiClient, X509Bundles } from '@grantline/sdk/workload-api';
import type { Logger } from '../shared/logger';
import { BundleError, InvalidSpiffeId } from './identity.errors';
import { parseSpiffeId } from './spiffe-id';
import { parseTrustBundle, type TrustBundle } from './trust-bundle';
import type { RefreshResult, TrustStore } from './trust-store';

export interface WorkloadApiTrustStoreDeps {
  client: WorkloadApiClient;
  /** Our own trust domain: start-up fails unless the Workload API gives its bundle. */
  ownTrustDomain: string;
  /** Trust domains configured explicitly (config/federation.json): they keep their own sources. */
  configured: TrustStore;
  configuredDomains: ReadonlySet<string>;
  logger: Logger;
  startTimeoutMs?: number;
}

/** `spiffe://td` (the Workload API's map key) → `td`; anything else is ignored with a warning. */
function trustDomainOfKey(key: string): string | undefined {
  try {
    const id = parseSpiffeId(key);
    return id.path === '' ? id.trustDomain : undefined;
  } catch (err) {
    if (err instanceof InvalidSpiffeId) return undefined;
    throw err;
  }
}

function byTrustDomain<T>(map: Map<string, T>, log: Logger): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, value] of map) {
    const td = trustDomainOfKey(key);
    if (td) out.set(td, value);
    else log.warn({ key }, 'Workload API bundle with an invalid trust-domain ID ignored');
  }
  return out;
}

/**
 * One trust domain's bundle from the Workload API's two streams: its JWKS (SPIRE sends a standard JWKS,
 * JWT keys only and no `use`) and its X.509 authorities. Never merged across trust domains.
 */
function combine(td: string, jwks: string | undefined, authorities: X509Certificate[]): TrustBundle {
  const parsed = parseTrustBundle(jwks ?? '{"keys":[]}', td).bundle;
  return {
    ...parsed,
    x509Authorities: authorities,
    empty: parsed.jwtKeyIds.size === 0 && authorities.length === 0,
  };
}

/**
 * Trust bundles pushed by the SPIFFE Workload API (FetchJWTBundles + FetchX509Bundles streams), so key
 * rotation (a prepared key published, an old one revoked) takes effect without a restart. Each update
 * replaces the whole state: a key that disappears stops verifying at once (Workload API §4).
 */
export function createWorkloadApiTrustStore(deps: WorkloadApiTrustStoreDeps): TrustStore {
  const log = deps.logger;
  let jwt: JwtBundles = new Map();
  let x509: X509Bundles = new Map();
  let bundles = new Map<string, TrustBundle>();
  const watches: Watch[] = [];

  function rebuild(): void {
    const jwtByTd = byTrustDomain(jwt, log);
    const x509ByTd = byTrustDomain(x509, log);
    const next = new Map<string, TrustBundle>();
    for (const td of new Set([...jwtByTd.keys(), ...x509ByTd.keys()])) {
      if (deps.configuredDomains.has(td)) continue;
      try {
        next.set(td, combine(td, jwtByTd.get(td), x509ByTd.get(td) ?? []));
      } catch (err) {
        // A broken bundle for one trust domain keeps that domain's last good bundle.
        log.warn({ trustDomain: td, err: (err as Error).message }, 'Workload API bundle rejected');
        const previous = bundles.get(td);
        if (previous) next.set(td, previous);
      }
    }
    for (const [td, bundle] of next) {
      const before = bundles.get(td);
      const kids = [...bundle.jwtKeyIds].sort();
      if (
        !before ||
        [...before.jwtKeyIds].sort().join() !== kids.join() ||
        before.x509Authorities.length !== bundle.x509Authorities.length
      ) {
        log.info(
          { trustDomain: td, jwtKeyIds: kids, x509Authorities: bundle.x509Authorities.length },
          'trust bundle updated from the Workload API',
        );
      }
    }
    bundles = next;
  }

  const onError = (stream: string) => (err: Error) =>
    log.warn(
      { stream, err: err.message },
      'Workload API stream failed; keeping the last bundles and retrying',
    );

  return {
    bundleFor(td) {
      return deps.configuredDomains.has(td) ? deps.configured.bundleFor(td) : bundles.get(td);
    },
    allX509Authorities: () => [
      ...[...bundles.values()].flatMap((b) => b.x509Authorities),
      ...deps.configured.allX509Authorities(),
    ],
    async start() {
      const opts = { readyTimeoutMs: deps.startTimeoutMs ?? 30_000 };
      const jwtWatch = deps.client.watchJwtBundles(
        {
          onUpdate: (m) => {
            jwt = m;
            rebuild();
          },
          onError: onError('FetchJWTBundles'),
        },
        opts,
      );
      const x509Watch = deps.client.watchX509Bundles(
        {
          onUpdate: (m) => {
            x509 = m;
            rebuild();
          },
          onError: onError('FetchX509Bundles'),
        },
        opts,
      );
      watches.push(jwtWatch, x509Watch);
      await deps.configured.start();
      await Promise.all([jwtWatch.ready, x509Watch.ready]);
      if (!bundles.get(deps.ownTrustDomain)) {
        throw new BundleError(
          `the Workload API at ${deps.client.address} gave no bundle for our trust domain ${deps.ownTrustDomain}`,
        );
      }
    },
    async refreshNow(td): Promise<RefreshResult[]> {
      // The streams push every change; a refresh only reloads the explicitly configured sources.
      const pushed = [...bundles.keys()]
        .filter((d) => td === undefined || d === td)
        .map((d) => ({ trustDomain: d, ok: true }));
      const configured =
        td === undefined || deps.configuredDomains.has(td) ? await deps.configured.refreshNow(td) : [];
      return [...pushed, ...configured];
    },
    stop() {
      for (const w of watches.splice(0)) w.close();
      deps.configured.stop();
    },
  };
}
