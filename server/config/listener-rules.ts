import type { Env } from './env.schema';

export type Problem = { key: string; problem: string };

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

export const isLoopback = (host: string): boolean => LOOPBACK_HOSTS.includes(host);

/** Reachable beyond this machine, or declared a production deployment (as in the Docker image). */
export const isExposed = (env: Env): boolean =>
  !isLoopback(env.GRANTLINE_HOST) || env.NODE_ENV === 'production';

/**
 * The operator listener's port: as configured, else one above the API port (so two local brokers do
 * not collide), and chosen by the system when the API port is (GRANTLINE_PORT=0, as tests run).
 */
export function operatorPort(env: Env): number {
  if (env.GRANTLINE_OPERATOR_PORT !== undefined) return env.GRANTLINE_OPERATOR_PORT;
  return env.GRANTLINE_PORT === 0 ? 0 : env.GRANTLINE_PORT + 1;
}

/**
 * RFC 8414 §3 / RFC 9068 §4: resource servers fetch the issuer's metadata and keys from the issuer URL,
 * so an http issuer lets anyone on the path substitute the keys. The default issuer is the http listen
 * URL, fine on a developer's loopback only: production (and any listener beyond loopback, unless the
 * operator chose the dev defaults with GRANTLINE_ALLOW_DEV) must name its https issuer.
 */
function issuerProblems(env: Env): Problem[] {
  const strict =
    env.NODE_ENV === 'production' || (!isLoopback(env.GRANTLINE_HOST) && !env.GRANTLINE_ALLOW_DEV);
  if (!strict) return [];
  if (!env.GRANTLINE_ISSUER)
    return [
      {
        key: 'GRANTLINE_ISSUER',
        problem:
          'required (an https URL) in production or beyond loopback: the default would be the http listen URL',
      },
    ];
  if (new URL(env.GRANTLINE_ISSUER).protocol !== 'https:')
    return [{ key: 'GRANTLINE_ISSUER', problem: 'must be an https URL in production or beyond loopback' }];
  return [];
}

function operatorProblems(env: Env): Problem[] {
  const port = operatorPort(env);
  if (port > 65535)
    return [
      { key: 'GRANTLINE_OPERATOR_PORT', problem: 'GRANTLINE_PORT + 1 is not a port: set it explicitly' },
    ];
  if (port !== 0 && port === env.GRANTLINE_PORT)
    return [{ key: 'GRANTLINE_OPERATOR_PORT', problem: 'must differ from GRANTLINE_PORT' }];
  return [];
}

/** Problems with the listeners: the issuer they publish and the operator port. */
export function listenerProblems(env: Env): Problem[] {
  return [...issuerProblems(env), ...operatorProblems(env)];
}
