import type { Config } from '../config/config';
import { connectOpenBaoDev } from '../dev/openbao/connect-openbao';
import { findBao } from '../dev/openbao/find-bao';
import type { Logger } from '../shared/logger';
import type { VaultConnection } from './vault-connection';

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
