import { randomBytes } from 'node:crypto';
import { startDevVault } from '../../server/dev/vault';
import { ManualClock } from '../../server/shared/clock';
import { createLogger } from '../../server/shared/logger';
import {
  createVaultAdapter,
  type MintedToken,
  type VaultAdapter,
  type VaultConfig,
  VaultRequestError,
} from '../../server/vault';
import { createScratchDb, dropRoles, type ScratchDb, vaultSideDbUrl, withDatabase } from './contract-db';

/**
 * One contract suite, two targets: the in-process dev Vault by default, a real Vault/OpenBao when
 * VAULT_ADDR and VAULT_TOKEN are set (its database engine then reaches PostgreSQL at CONTRACT_VAULT_DB_URL).
 */
export const REAL_VAULT = Boolean(process.env.VAULT_ADDR && process.env.VAULT_TOKEN);

/** A test that needs the dev server (its ManualClock, seal switch or stop/start): skipped, and says so, on real Vault. */
export function itDevOnly(name: string, fn: () => Promise<void>): void {
  if (REAL_VAULT) it.skip(`${name} [skipped: needs the in-process dev Vault]`, fn);
  else it(name, fn);
}

/**
 * Statements for a read-only role. The minted role joins a group that holds the table privileges (see
 * createScratchDb): a role granted on tables directly cannot be dropped, and concurrent GRANTs on one table
 * fail. Revocation terminates open sessions, since DROP ROLE leaves them running (DESIGN.md "Dev Vault").
 */
export const creationSql = (group: string): string =>
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE "${group}";`;
export const REVOCATION_SQL =
  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}'; " +
  'DROP ROLE IF EXISTS "{{name}}";';

type DevVault = Awaited<ReturnType<typeof startDevVault>>;
type RoleKind = 'read' | 'other' | 'renew' | 'short';

export interface ContractEnv {
  vault: VaultAdapter;
  config: VaultConfig;
  dev: DevVault | undefined;
  clock: ManualClock | undefined;
  db: ScratchDb;
  /** Role name in Vault for each kind, and the creds path of each. */
  role: Record<RoleKind, string>;
  credsPath(kind: RoleKind): string;
  policy: { parent: string; read: string; other: string; kv: string };
  kvPath: string;
  mintTask(ttlSeconds?: number): Promise<MintedToken>;
  mintGrant(task: MintedToken, policies: string[], ttlSeconds?: number): Promise<MintedToken>;
  close(): Promise<void>;
}

export const logger = createLogger({ level: process.env.CONTRACT_LOG_LEVEL ?? 'silent' });

const ROLE_TTLS: Record<RoleKind, { default_ttl: string; max_ttl: string }> = {
  read: { default_ttl: '1h', max_ttl: '2h' },
  other: { default_ttl: '1h', max_ttl: '2h' },
  renew: { default_ttl: '60s', max_ttl: '120s' },
  // Against real Vault expiry is observed by waiting; against the dev server by moving its clock.
  short: REAL_VAULT ? { default_ttl: '2s', max_ttl: '3s' } : { default_ttl: '30s', max_ttl: '60s' },
};

async function startTarget(manualClock: boolean) {
  if (REAL_VAULT) {
    const config: VaultConfig = {
      addr: process.env.VAULT_ADDR!,
      token: process.env.VAULT_TOKEN!,
      timeoutMs: 5000,
      ...(process.env.VAULT_NAMESPACE ? { namespace: process.env.VAULT_NAMESPACE } : {}),
    };
    return { config, dev: undefined, clock: undefined };
  }
  const clock = manualClock ? new ManualClock() : undefined;
  const dev = await startDevVault({ port: 0, logger, ...(clock ? { clock } : {}) });
  return { config: { addr: dev.url, token: dev.rootToken, timeoutMs: 2000 }, dev, clock };
}

/** Mounts an engine unless something is already mounted there (a real dev Vault has `secret/`). */
async function ensureMount(vault: VaultAdapter, path: string, body: object): Promise<void> {
  try {
    await vault.write(`sys/mounts/${path}`, body);
  } catch (err) {
    if (!(err instanceof VaultRequestError && err.vaultErrors.some((e) => e.includes('already in use'))))
      throw err;
  }
}

function connectionConfig(scratch: ScratchDb): Record<string, unknown> {
  const u = new URL(withDatabase(vaultSideDbUrl(), scratch.name));
  const template = `postgresql://{{username}}:{{password}}@${u.host}${u.pathname}${u.search}`;
  return {
    plugin_name: 'postgresql-database-plugin',
    connection_url: template,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    verify_connection: true,
  };
}

async function configure(env: ContractEnv, prefix: string): Promise<void> {
  const { vault } = env;
  await ensureMount(vault, 'database', { type: 'database' });
  await ensureMount(vault, 'secret', { type: 'kv', options: { version: '2' } });
  const dbName = `${prefix}-db`;
  const roles = Object.values(env.role);
  await vault.write(`database/config/${dbName}`, { ...connectionConfig(env.db), allowed_roles: roles });
  for (const kind of Object.keys(env.role) as RoleKind[]) {
    await vault.write(`database/roles/${env.role[kind]}`, {
      db_name: dbName,
      creation_statements: [creationSql(env.db.readerRole)],
      revocation_statements: [REVOCATION_SQL],
      ...ROLE_TTLS[kind],
    });
  }
  const read = (path: string) => ({ path: { [path]: { capabilities: ['read'] } } });
  await vault.writePolicy(env.policy.parent, { path: { 'auth/token/create': { capabilities: ['update'] } } });
  await vault.writePolicy(env.policy.read, {
    path: {
      [env.credsPath('read')]: { capabilities: ['read'] },
      [env.credsPath('renew')]: { capabilities: ['read'] },
      [env.credsPath('short')]: { capabilities: ['read'] },
    },
  });
  await vault.writePolicy(env.policy.other, read(env.credsPath('other')));
  await vault.writePolicy(env.policy.kv, read(`secret/data/${env.kvPath}/*`));
  await vault.write(`secret/data/${env.kvPath}/api-key`, {
    data: { api_key: `demo-${prefix}`, owner: 'crm' },
  });
}

/** Starts (or connects to) Vault, makes a scratch database and configures roles, policies and KV data. */
export async function setupContractEnv(
  tag: string,
  opts: { manualClock?: boolean } = {},
): Promise<ContractEnv> {
  const prefix = `gl-${tag}-${randomBytes(3).toString('hex')}`;
  const db = await createScratchDb(tag.replace(/-/g, '_'));
  const { config, dev, clock } = await startTarget(opts.manualClock ?? false);
  const vault = createVaultAdapter(config, { logger });
  const role = {
    read: `${prefix}-read`,
    other: `${prefix}-other`,
    renew: `${prefix}-renew`,
    short: `${prefix}-short`,
  };
  const policy = {
    parent: `${prefix}-parent`,
    read: `${prefix}-read`,
    other: `${prefix}-other`,
    kv: `${prefix}-kv`,
  };
  const env: ContractEnv = {
    vault,
    config,
    dev,
    clock,
    db,
    role,
    policy,
    kvPath: `${prefix}/crm`,
    credsPath: (kind) => `database/creds/${role[kind]}`,
    mintTask: (ttlSeconds = 600) =>
      vault.createOrphanToken({
        policies: Object.values(policy),
        ttlSeconds,
        displayName: 'task',
        meta: { tag },
      }),
    mintGrant: (task, policies, ttlSeconds = 300) =>
      vault.createChildToken(task.clientToken, { policies, ttlSeconds, displayName: 'grant' }),
    async close() {
      for (const kind of Object.keys(role) as RoleKind[]) {
        // Cleanup goes on even if Vault is down; leftover roles are dropped directly below.
        await vault.revokeLeasePrefix(env.credsPath(kind)).catch((err: unknown) => {
          logger.warn({ err, kind }, 'contract cleanup: revoke-prefix failed');
        });
      }
      await dropRoles(db, await db.mintedRoles());
      await db.drop();
      await dev?.close();
    },
  };
  await configure(env, prefix);
  return env;
}
