import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per broker process (tests build their own, so metrics never leak between apps). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  authFailures: Counter<'reason' | 'via'>;
  decisions: Counter<'action' | 'decision'>;
  grantsIssued: Counter<'kind'>;
  revocationJobs: Counter<'kind' | 'outcome'>;
  irrevocable: Counter<'kind'>;
  reconciled: Counter<'kind'>;
}

export function createMetrics(opts: { collectProcess?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.collectProcess ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'grantline_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'grantline_authentication_failures_total',
      help: 'Rejected SVIDs by reason',
      labelNames: ['reason', 'via'],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'grantline_policy_decisions_total',
      help: 'Policy decisions by action and outcome',
      labelNames: ['action', 'decision'],
      registers: [registry],
    }),
    grantsIssued: new Counter({
      name: 'grantline_grants_issued_total',
      help: 'Grants issued, by kind (direct or delegated)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    irrevocable: new Counter({
      name: 'grantline_revocation_irrevocable_total',
      help: 'Vault handles given up on after the retry budget (alert on any increase)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    reconciled: new Counter({
      name: 'grantline_reconcile_revoked_total',
      help: 'Credentials found alive without a live grant by reconciliation, and revoked',
      labelNames: ['kind'],
      registers: [registry],
    }),
    revocationJobs: new Counter({
      name: 'grantline_revocation_jobs_total',
      help: 'Revocation job attempts by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
  };
}
