import { WorkloadEndpointInvalid, workloadApiTarget } from '@grantline/sdk/workload-api';
import type { Env } from './env.schema';

type Problem = { key: string; problem: string };

/** The broker trusts the bundle of GRANTLINE_TRUST_BUNDLE, the Workload API's bundles, or the dev trust domain. */
export type TrustSource = 'bundle' | 'workload-api' | 'dev';

export function trustSourceOf(env: Env): TrustSource {
  if (env.GRANTLINE_TRUST_SOURCE) return env.GRANTLINE_TRUST_SOURCE;
  return env.GRANTLINE_TRUST_BUNDLE ? 'bundle' : 'dev';
}

function workloadApiProblems(env: Env): Problem[] {
  const problems: Problem[] = [];
  if (!env.SPIFFE_ENDPOINT_SOCKET) {
    problems.push({
      key: 'SPIFFE_ENDPOINT_SOCKET',
      problem: 'required when GRANTLINE_TRUST_SOURCE=workload-api',
    });
  } else {
    try {
      workloadApiTarget(env.SPIFFE_ENDPOINT_SOCKET);
    } catch (err) {
      if (!(err instanceof WorkloadEndpointInvalid)) throw err;
      problems.push({ key: 'SPIFFE_ENDPOINT_SOCKET', problem: err.message });
    }
  }
  if (!env.GRANTLINE_TRUST_DOMAIN) {
    problems.push({
      key: 'GRANTLINE_TRUST_DOMAIN',
      problem: 'required when GRANTLINE_TRUST_SOURCE=workload-api',
    });
  }
  if (env.GRANTLINE_TRUST_BUNDLE) {
    problems.push({
      key: 'GRANTLINE_TRUST_BUNDLE',
      problem: 'not used with GRANTLINE_TRUST_SOURCE=workload-api',
    });
  }
  return problems;
}

/** Cross-field rules of the trust source, the SVID-served mTLS listener and GRANTLINE_VAULT. */
export function identitySourceProblems(env: Env): Problem[] {
  const source = trustSourceOf(env);
  const problems = source === 'workload-api' ? workloadApiProblems(env) : [];
  if (source === 'bundle' && !env.GRANTLINE_TRUST_BUNDLE) {
    problems.push({ key: 'GRANTLINE_TRUST_BUNDLE', problem: 'required when GRANTLINE_TRUST_SOURCE=bundle' });
  }
  if (env.GRANTLINE_TLS_SVID && source !== 'workload-api') {
    problems.push({ key: 'GRANTLINE_TLS_SVID', problem: 'needs GRANTLINE_TRUST_SOURCE=workload-api' });
  }
  if (env.GRANTLINE_TLS_SVID && (env.GRANTLINE_TLS_CERT || env.GRANTLINE_TLS_KEY)) {
    problems.push({ key: 'GRANTLINE_TLS_SVID', problem: 'give either the SVID or GRANTLINE_TLS_CERT/KEY' });
  }
  if (env.VAULT_ADDR && env.GRANTLINE_VAULT !== 'auto') {
    problems.push({
      key: 'GRANTLINE_VAULT',
      problem: 'only chooses a local Vault: unset it when VAULT_ADDR is set',
    });
  }
  return problems;
}
