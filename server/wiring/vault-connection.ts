import type { Config } from '../config/config';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { createVaultAdapter } from '../vault';
import { startLocalVault } from './dev-defaults';
import type { VaultConnection } from './vault-connection.types';

export type { VaultConnection };

/**
 * `VAULT_ADDR` + `VAULT_TOKEN`, or (when unset) a local Vault: OpenBao dev or the in-process dev Vault,
 * its database engine pointed at the broker's PostgreSQL and the demo scopes configured (server/dev).
 */
export async function connectVault(
  config: Config,
  deps: { logger: Logger; clock: Clock; databaseUrl: string; demoDatabase: string },
): Promise<VaultConnection> {
  if (config.vault) {
    const v = config.vault;
    const vault = createVaultAdapter(
      {
        addr: v.addr,
        token: v.token,
        timeoutMs: v.timeoutMs,
        ...(v.namespace ? { namespace: v.namespace } : {}),
        tls: {
          ...(v.tls.caFile ? { ca: v.tls.caFile } : {}),
          ...(v.tls.certFile ? { cert: v.tls.certFile } : {}),
          ...(v.tls.keyFile ? { key: v.tls.keyFile } : {}),
          skipVerify: v.tls.skipVerify,
        },
      },
      { logger: deps.logger },
    );
    return {
      vault,
      brokerToken: v.token,
      connectionValues: {},
      devVault: undefined,
      shutdown: async () => undefined,
    };
  }
  return startLocalVault(config.localVault, deps);
}
