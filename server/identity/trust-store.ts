import type { X509Certificate } from 'node:crypto';
import { Counter } from 'prom-client';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { BundleSource } from './bundle-source';
import { BundleError } from './identity.errors';
import { parseTrustBundle, type TrustBundle } from './trust-bundle';

export interface TrustDomainSource {
  trustDomain: string;
  source: BundleSource;
  /** Operator override of the poll interval; else the bundle's `spiffe_refresh_hint`, else 300 s. */
  refreshHintSeconds?: number;
  /** When true, start-up fails if the first load fails (our own trust domain). */
  required: boolean;
}

export interface RefreshResult {
  trustDomain: string;
  ok: boolean;
}

/** One bundle per trust domain, each refreshed on its own timer; never merged (identity-standards §4). */
export interface TrustStore {
  bundleFor(trustDomain: string): TrustBundle | undefined;
  /** Every trust domain's X.509 authorities, ONLY to fill Node's `ca` option (see mtls.ts). */
  allX509Authorities(): X509Certificate[];
  start(): Promise<void>;
  refreshNow(trustDomain?: string): Promise<RefreshResult[]>;
  stop(): void;
}

interface Entry extends TrustDomainSource {
  bundle: TrustBundle | undefined;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<boolean> | undefined;
}

const DEFAULT_REFRESH_SECONDS = 300;
// A hostile or broken endpoint must not make us poll it in a tight loop, nor stop polling for days.
const MIN_REFRESH_SECONDS = 5;
const MAX_REFRESH_SECONDS = 86_400;
const FAILURE_METRIC = 'grantline_trust_bundle_refresh_failures_total';
const ROLLBACK_METRIC = 'grantline_trust_bundle_rollbacks_total';

function counter(metrics: Metrics, name: string, help: string): Counter<'trust_domain'> {
  const existing = metrics.registry.getSingleMetric(name);
  if (existing) return existing as Counter<'trust_domain'>;
  return new Counter({ name, help, labelNames: ['trust_domain'], registers: [metrics.registry] });
}

/**
 * SPIFFE bundle format §4: `spiffe_sequence` only grows. A lower one is an old bundle served again
 * (perhaps with a key that was removed for a reason): refuse it and keep the one we have. A document
 * without a sequence (a plain JWKS such as SPIRE's OIDC keys) has nothing to compare and is taken.
 */
function checkSequence(current: TrustBundle | undefined, next: TrustBundle): void {
  if (current?.sequence === undefined || next.sequence === undefined) return;
  if (next.sequence < current.sequence) throw new BundleRollback(current.sequence, next.sequence);
}

class BundleRollback extends BundleError {
  constructor(current: bigint, next: bigint) {
    super(`trust bundle sequence went backwards (from ${current} to ${next}): refused`);
  }
}

function intervalSeconds(entry: Entry): number {
  const hint = entry.refreshHintSeconds ?? entry.bundle?.refreshHintSeconds ?? DEFAULT_REFRESH_SECONDS;
  return Math.min(MAX_REFRESH_SECONDS, Math.max(MIN_REFRESH_SECONDS, hint));
}

export function createTrustStore(deps: {
  sources: TrustDomainSource[];
  logger: Logger;
  metrics: Metrics;
}): TrustStore {
  const log = deps.logger;
  const failures = counter(
    deps.metrics,
    FAILURE_METRIC,
    'Trust bundle loads that failed (the last good bundle was kept)',
  );
  const rollbacks = counter(
    deps.metrics,
    ROLLBACK_METRIC,
    'Trust bundles refused because spiffe_sequence went backwards',
  );
  const entries = new Map<string, Entry>(
    deps.sources.map((s) => [
      s.trustDomain,
      { ...s, bundle: undefined, timer: undefined, inFlight: undefined },
    ]),
  );
  let stopped = false;

  function install(entry: Entry, text: string): void {
    const { bundle, warnings } = parseTrustBundle(text, entry.trustDomain);
    checkSequence(entry.bundle, bundle);
    for (const warning of warnings)
      log.warn({ trustDomain: entry.trustDomain, warning }, 'trust bundle entry ignored');
    if (bundle.empty) {
      log.warn(
        { trustDomain: entry.trustDomain },
        'trust bundle has no usable keys: every SVID of it is rejected',
      );
    }
    const changed = entry.bundle === undefined || entry.bundle.sequence !== bundle.sequence;
    entry.bundle = bundle;
    const fields = {
      trustDomain: entry.trustDomain,
      sequence: bundle.sequence?.toString(),
      jwtKeys: bundle.jwtKeyIds.size,
      x509Authorities: bundle.x509Authorities.length,
    };
    if (changed) log.info(fields, 'trust bundle loaded');
    else log.debug(fields, 'trust bundle unchanged');
  }

  async function load(entry: Entry): Promise<boolean> {
    try {
      install(entry, await entry.source.load(entry.bundle));
      return true;
    } catch (err) {
      failures.inc({ trust_domain: entry.trustDomain });
      if (err instanceof BundleRollback) rollbacks.inc({ trust_domain: entry.trustDomain });
      const kept = entry.bundle ? 'keeping the last good bundle' : 'no bundle yet: its SVIDs are rejected';
      log.warn(
        { trustDomain: entry.trustDomain, source: entry.source.location, err },
        `trust bundle load failed; ${kept}`,
      );
      if (entry.required && !entry.bundle) throw err;
      return false;
    } finally {
      schedule(entry);
    }
  }

  function schedule(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (stopped) return;
    // A failed load was already logged and counted in `load`; the next attempt is scheduled there too.
    entry.timer = setTimeout(() => void refresh(entry).catch(() => undefined), intervalSeconds(entry) * 1000);
    entry.timer.unref();
  }

  /** One load at a time per trust domain; a timer firing during `refreshNow` joins the running load. */
  function refresh(entry: Entry): Promise<boolean> {
    if (!entry.inFlight) entry.inFlight = load(entry).finally(() => (entry.inFlight = undefined));
    return entry.inFlight;
  }

  function select(trustDomain?: string): Entry[] {
    if (trustDomain === undefined) return [...entries.values()];
    const entry = entries.get(trustDomain);
    return entry ? [entry] : [];
  }

  return {
    bundleFor: (trustDomain) => entries.get(trustDomain)?.bundle,
    allX509Authorities: () => [...entries.values()].flatMap((e) => e.bundle?.x509Authorities ?? []),
    async start() {
      stopped = false;
      await Promise.all([...entries.values()].map((e) => refresh(e)));
    },
    async refreshNow(trustDomain) {
      const chosen = select(trustDomain);
      const results = await Promise.all(chosen.map((e) => refresh(e).catch(() => false)));
      return chosen.map((e, i) => ({ trustDomain: e.trustDomain, ok: results[i] ?? false }));
    },
    stop() {
      stopped = true;
      for (const entry of entries.values()) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = undefined;
      }
    },
  };
}
