import type { Logger } from '../shared/logger';
import { VaultUnavailable } from './vault.errors';
import type { VaultAdapter, VaultConfig } from './vault.types';
import { createRawVaultClient, validateVaultConfig } from './vault-client';
import { checkPolicyName } from './vault-input';
import { createSecretOps } from './vault-lease-ops';
import { toHealth } from './vault-response';
import { createTokenOps } from './vault-token-ops';
import { createVaultTransport } from './vault-transport';

const DEFAULT_RETRIES = 2;

export interface VaultAdapterDeps {
  logger: Logger;
  /** Base of the retry backoff (default 100 ms); tests shorten it. */
  backoffBaseMs?: number;
}

/**
 * The only code in Grantline that talks to Vault (DESIGN.md "Parts"). Bad config fails here, at start-up.
 * Every method throws the typed errors of `vault.errors.ts`; only idempotent calls are retried, and only
 * when Vault is unavailable.
 */
export function createVaultAdapter(config: VaultConfig, deps: VaultAdapterDeps): VaultAdapter {
  validateVaultConfig(config);
  const logger = deps.logger.child({ module: 'vault' });
  const transport = createVaultTransport({
    client: createRawVaultClient(config),
    logger,
    timeoutMs: config.timeoutMs,
    retries: config.retries ?? DEFAULT_RETRIES,
    ...(deps.backoffBaseMs === undefined ? {} : { backoffBaseMs: deps.backoffBaseMs }),
  });
  const ops = { transport, broker: config.token, logger };
  const broker = config.token;

  return {
    ...createTokenOps(ops),
    ...createSecretOps(ops),

    async health() {
      const c = { op: 'health', method: 'read', path: 'sys/health' } as const;
      const body = await transport.call({ ...c, idempotent: true });
      // The client resolves sys/health whatever the status (§7.2): a non-JSON answer is a proxy or load
      // balancer speaking for a Vault it cannot reach.
      if (typeof body !== 'object' || body === null)
        throw new VaultUnavailable({ ctx: c, reason: 'no health body' });
      return toHealth(body, c);
    },

    async writePolicy(name, policy) {
      const path = `sys/policies/acl/${checkPolicyName(name)}`;
      const body = { policy: JSON.stringify(policy) };
      await transport.call({
        op: 'writePolicy',
        method: 'write',
        path,
        token: broker,
        body,
        idempotent: true,
      });
    },

    async write(path, body) {
      return transport.call({ op: 'write', method: 'write', path, token: broker, body, idempotent: false });
    },
  };
}
