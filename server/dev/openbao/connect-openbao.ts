import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { createVaultAdapter, VaultRequestError } from '../../vault';
import type { VaultConnection } from '../../wiring/vault-connection.types';
import { configureLocalVault } from '../local-vault-setup';
import { startOpenBaoDev } from './openbao-dev-server';

/**
 * `bao server -dev` as a child process, configured like the in-process dev Vault: the database secrets
 * engine mounted at `database/` and pointed at the broker's PostgreSQL, the demo role and policies, and
 * the KV data (dev mode already mounts KV v2 at `secret/`). The child stops with the broker.
 */
export async function connectOpenBaoDev(
  baoPath: string,
  deps: { logger: Logger; clock: Clock; databaseUrl: string; demoDatabase: string },
): Promise<VaultConnection> {
  const bao = await startOpenBaoDev(baoPath);
  deps.logger.warn(
    { url: bao.url, version: bao.version, binary: baoPath, pid: bao.pid },
    `VAULT_ADDR is not set: running OpenBao ${bao.version} (bao server -dev: in-memory, root token in this ` +
      'process only, NOT for production) as a child process',
  );
  try {
    const vault = createVaultAdapter(
      { addr: bao.url, token: bao.rootToken, timeoutMs: 5000 },
      { logger: deps.logger },
    );
    await vault.write('sys/mounts/database', { type: 'database' }).catch((err: unknown) => {
      if (!(err instanceof VaultRequestError && err.vaultErrors.some((e) => e.includes('already in use'))))
        throw err;
    });
    const { connectionValues, databaseTargets } = await configureLocalVault(vault, deps);
    return {
      vault,
      brokerToken: bao.rootToken,
      connectionValues,
      databaseTargets,
      devVault: undefined,
      openbao: { version: bao.version, binary: baoPath, url: bao.url },
      async shutdown() {
        await bao.stop();
        deps.logger.info({ pid: bao.pid }, 'OpenBao dev server stopped');
      },
    };
  } catch (err) {
    await bao.stop();
    throw err;
  }
}
