import type { Config } from '../config/config';
import type { Logger } from '../shared/logger';
import { createVaultAdapter } from '../vault';
import type { VaultConnection } from '../wiring/vault-connection.types';
import { configureLocalVault, type LocalDeps } from './local-vault-setup';
import { connectOpenBaoDev } from './openbao/connect-openbao';
import { findBao } from './openbao/find-bao';
import { startDevVault } from './vault';

type Choice =
  | { kind: 'dev-vault' }
  | { kind: 'openbao'; connect(deps: Parameters<typeof connectOpenBaoDev>[1]): Promise<VaultConnection> };

/** The operator forced OpenBao (GRANTLINE_VAULT=bao) but it is not installed. */
export class OpenBaoNotInstalled extends Error {
  constructor() {
    super(
      'GRANTLINE_VAULT=bao, but no bao binary is on PATH or in the tools cache: run npm run tools:install',
    );
    this.name = 'OpenBaoNotInstalled';
  }
}

/**
 * Without VAULT_ADDR: `bao` forces OpenBao, `dev` the in-process dev Vault, `auto` takes OpenBao when its
 * binary is on PATH or in the tools cache (a real Vault implementation beats our imitation of one).
 */
export function localVaultChoice(mode: Config['localVault'], logger: Logger): Choice {
  const bao = mode === 'dev' ? undefined : findBao();
  if (mode === 'bao' && !bao) throw new OpenBaoNotInstalled();
  if (!bao) {
    if (mode === 'auto')
      logger.info('no bao binary on PATH or in the tools cache: using the in-process dev Vault');
    return { kind: 'dev-vault' };
  }
  return { kind: 'openbao', connect: (deps) => connectOpenBaoDev(bao, deps) };
}

/** The in-process dev Vault, its database engine pointed at the broker's PostgreSQL. */
async function connectDevVault(deps: LocalDeps): Promise<VaultConnection> {
  const devVault = await startDevVault({
    port: 0,
    logger: deps.logger.child({ module: 'devvault' }),
    clock: deps.clock,
    databaseUrl: deps.databaseUrl,
  });
  deps.logger.warn(
    { url: devVault.url },
    'VAULT_ADDR is not set: running the in-process DEV Vault (in-memory, not for production)',
  );
  const vault = createVaultAdapter(
    { addr: devVault.url, token: devVault.rootToken, timeoutMs: 5000 },
    { logger: deps.logger },
  );
  return {
    vault,
    brokerToken: devVault.rootToken,
    ...(await configureLocalVault(vault, deps)),
    devVault,
    shutdown: () => devVault.close(),
  };
}

/** VAULT_ADDR unset: OpenBao dev as a child process, or the in-process dev Vault (GRANTLINE_VAULT). */
export async function connectLocalVault(
  mode: Config['localVault'],
  deps: LocalDeps,
): Promise<VaultConnection> {
  const local = localVaultChoice(mode, deps.logger);
  return local.kind === 'openbao' ? local.connect(deps) : connectDevVault(deps);
}
