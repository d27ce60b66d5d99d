import path from 'node:path';
import { type BundleSource, createBundleSource } from './bundle-source';
import { httpsSpiffeBundleSource } from './https-spiffe-source';
import { IdentityConfigError, InvalidSpiffeId } from './identity.errors';
import type { IdentityConfig } from './identity.types';
import { parseSpiffeId, parseTrustDomain } from './spiffe-id';
import type { TrustDomainSource } from './trust-store';

export interface IdentityPlan {
  devMode: boolean;
  trustDomain: string;
  /** The dev trust domain's directory, in dev mode. */
  devHome: string | undefined;
  sources: TrustDomainSource[];
  /** Our own trust domain's bundles come from the Workload API (then `sources` are the federated ones). */
  workloadApi: { address: string; spiffeId?: string } | undefined;
}

/** The trust domain of the dev defaults (server/dev/identity), whose keys sit on local disk. */
export const DEV_TRUST_DOMAIN = 'dev.grantline.local';

const MAX_LEEWAY_SECONDS = 300;

function trustDomainOf(name: string, what: string): string {
  try {
    return parseTrustDomain(name);
  } catch (err) {
    if (err instanceof InvalidSpiffeId) throw new IdentityConfigError(`${what}: ${err.message}`);
    throw err;
  }
}

function checkNumbers(config: IdentityConfig): void {
  if (typeof config.audience !== 'string' || config.audience.length === 0) {
    throw new IdentityConfigError('an audience is required (GRANTLINE_AUDIENCE)');
  }
  if (!Number.isInteger(config.maxSvidLifetimeSeconds) || config.maxSvidLifetimeSeconds <= 0) {
    throw new IdentityConfigError('maxSvidLifetimeSeconds must be a positive integer');
  }
  const leeway = config.leewaySeconds;
  if (!Number.isInteger(leeway) || leeway < 0 || leeway > MAX_LEEWAY_SECONDS) {
    throw new IdentityConfigError(`leewaySeconds must be an integer from 0 to ${MAX_LEEWAY_SECONDS}`);
  }
}

/**
 * Our own trust domain. Without a bundle the dev trust domain is used, and a configured trust domain
 * other than it is refused: an operator who set GRANTLINE_TRUST_DOMAIN but forgot the bundle must not
 * end up silently trusting keys on local disk.
 */
function ownTrustDomain(config: IdentityConfig, devMode: boolean): string {
  if (!devMode) return trustDomainOf(config.trustDomain, 'trustDomain');
  if (config.trustDomain && config.trustDomain !== DEV_TRUST_DOMAIN) {
    throw new IdentityConfigError(
      `trust domain ${config.trustDomain} is configured without a trust bundle (GRANTLINE_TRUST_BUNDLE)`,
    );
  }
  return DEV_TRUST_DOMAIN;
}

function httpsSpiffeSource(
  location: string,
  trustDomain: string,
  o: { endpointSpiffeId: string; bootstrapBundle: string },
): BundleSource {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new IdentityConfigError(`bundle endpoint ${location} is not a URL`);
  }
  if (url.protocol !== 'https:')
    throw new IdentityConfigError('an https_spiffe bundle endpoint must use https');
  try {
    parseSpiffeId(o.endpointSpiffeId, { requirePath: true });
  } catch (err) {
    if (err instanceof InvalidSpiffeId) throw new IdentityConfigError(`endpoint_spiffe_id: ${err.message}`);
    throw err;
  }
  return httpsSpiffeBundleSource({
    url,
    trustDomain,
    endpointSpiffeId: o.endpointSpiffeId,
    bootstrap: createBundleSource(o.bootstrapBundle),
  });
}

function federationSources(config: IdentityConfig, own: string, insecure: boolean): TrustDomainSource[] {
  const seen = new Set([own]);
  return config.federation.map((f) => {
    const trustDomain = trustDomainOf(f.trustDomain, 'federation trustDomain');
    if (seen.has(trustDomain))
      throw new IdentityConfigError(`trust domain ${trustDomain} is configured twice`);
    seen.add(trustDomain);
    const hint = f.refreshHintSeconds;
    if (hint !== undefined && (!Number.isInteger(hint) || hint <= 0)) {
      throw new IdentityConfigError(`refreshHintSeconds of ${trustDomain} must be a positive integer`);
    }
    const source = f.httpsSpiffe
      ? httpsSpiffeSource(f.source, trustDomain, f.httpsSpiffe)
      : createBundleSource(f.source, { allowInsecureBundleUrls: insecure });
    return {
      trustDomain,
      source,
      required: false,
      ...(hint === undefined ? {} : { refreshHintSeconds: hint }),
    };
  });
}

/** Checks the identity configuration once, at construction: a bad option fails start-up. */
export function planIdentity(config: IdentityConfig, allowInsecureBundleUrls = false): IdentityPlan {
  checkNumbers(config);
  if (config.workloadApi) {
    const trustDomain = trustDomainOf(config.trustDomain, 'trustDomain');
    return {
      devMode: false,
      trustDomain,
      devHome: undefined,
      sources: federationSources(config, trustDomain, allowInsecureBundleUrls),
      workloadApi: config.workloadApi,
    };
  }
  const devMode = !config.bundle && Boolean(config.devHome);
  if (!config.bundle && !devMode) {
    throw new IdentityConfigError('no trust bundle is configured (GRANTLINE_TRUST_BUNDLE)');
  }
  const trustDomain = ownTrustDomain(config, devMode);
  const location = devMode
    ? path.join(config.devHome!, 'dev-identity', 'bundle.json')
    : (config.bundle?.source ?? '');
  const own: TrustDomainSource = {
    trustDomain,
    source: createBundleSource(location, { allowInsecureBundleUrls }),
    required: true,
  };
  return {
    devMode,
    trustDomain,
    devHome: devMode ? config.devHome : undefined,
    sources: [own, ...federationSources(config, trustDomain, allowInsecureBundleUrls)],
    workloadApi: undefined,
  };
}
