import type { Config } from '../config/config';
import { demoGroupRole, prepareDemoDatabase } from '../db/demo-database';
import { type DevVault, startDevVault } from '../devvault';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { createVaultAdapter, type VaultAdapter } from '../vault';
import { configureDevVault } from '../vault/dev-setup';
import { localVaultChoice } from './local-vault';

export interface VaultConnection {
  vault: VaultAdapter;
  brokerToken: string;
  /** Facts filled into scopes' connection placeholders (`{{dev_database.host}}` …). */
  connectionValues: Record<string, string | number>;
  devVault: DevVault | undefined;
  /** Set when `bao server -dev` runs as our child process (GRANTLINE_VAULT=auto|bao). */
  openbao?: { version: string; binary: string; url: string };
  shutdown(): Promise<void>;
}

type LocalDeps = { logger: Logger; clock: Clock; databaseUrl: string; demoDatabase: string };

/**
 * The dev scopes' set-up on a local Vault (dev Vault or OpenBao dev): the demo database, its role and
 * policies, the KV data, and the facts scopes fill into their connection placeholders.
 */
export async function configureLocalVault(
  vault: VaultAdapter,
  deps: LocalDeps,
): Promise<Record<string, string | number>> {
  const demoUrl = await prepareDemoDatabase(deps.databaseUrl, deps.demoDatabase, deps.logger);
  await configureDevVault(vault, {
    demoDatabaseUrl: demoUrl,
    groupRole: demoGroupRole(deps.demoDatabase),
    logger: deps.logger,
  });
  const u = new URL(demoUrl);
  return {
    'dev_database.host': u.hostname,
    'dev_database.port': Number(u.port || 5432),
    'dev_database.name': deps.demoDatabase,
  };
}

/**
 * `VAULT_ADDR` + `VAULT_TOKEN`, or (when unset) the dev Vault started in-process with its database engine
 * pointed at the broker's PostgreSQL and the demo scopes configured.
 */
export async function connectVault(config: Config, deps: LocalDeps): Promise<VaultConnection> {
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
  const local = localVaultChoice(config.localVault, deps.logger);
  if (local.kind === 'openbao') return local.connect(deps);
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
    connectionValues: await configureLocalVault(vault, deps),
    devVault,
    shutdown: () => devVault.close(),
  };
}
