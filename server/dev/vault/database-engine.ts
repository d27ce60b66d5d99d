import type { Pool } from 'pg';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { formatExpiration, generatePassword, generateUsername, roleAllowed } from './database-credentials';
import { createPool, defaultRevoke, renderConnectionUrl, runInTransaction } from './database-sql';
import type { LeaseManager } from './lease-manager';
import type { Lease, LeaseBackend } from './lease-store';
import type { TokenEntry } from './token-store';
import { calculateTtl } from './ttl-math';
import { invalidRequest, multiError, VaultApiError } from './vault-error';

export interface DbConfig {
  name: string;
  pluginName: string;
  connectionUrl: string;
  username: string;
  password: string;
  allowedRoles: string[];
  verifyConnection: boolean;
  maxOpenConnections: number;
}

export interface DbRole {
  name: string;
  dbName: string;
  creationStatements: string[];
  revocationStatements: string[];
  rollbackStatements: string[];
  renewStatements: string[];
  defaultTtl: number;
  maxTtl: number;
}

/** What a DB lease remembers, so it can be revoked even after its role is deleted (spec §4). */
interface DbLeaseInternal {
  username: string;
  role: string;
  dbName: string;
  revocationStatements: string[];
}

export interface DatabaseEngineDeps {
  clock: Clock;
  logger: Logger;
  leases: LeaseManager;
  defaultDatabaseUrl?: string;
}

const DEFAULT_RENEW = [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];

/** Vault's database secrets engine for PostgreSQL, mounted at `database/`. */
export function createDatabaseEngine(deps: DatabaseEngineDeps) {
  const configs = new Map<string, DbConfig>();
  const roles = new Map<string, DbRole>();
  const pools = new Map<string, Pool>();
  const log = deps.logger;

  const queues = new Map<string, Promise<void>>();

  /**
   * Statements against one database run one at a time: concurrent GRANT/REVOKE on the same tables make
   * PostgreSQL fail one side with `tuple concurrently updated`, which would turn parallel issues and
   * revocations into spurious failures and retries.
   */
  function serialized<T>(dbName: string, fn: () => Promise<T>): Promise<T> {
    const run = (queues.get(dbName) ?? Promise.resolve()).then(fn);
    queues.set(
      dbName,
      run.then(
        () => undefined,
        () => undefined, // the caller gets this failure through `run`; the queue only needs to move on
      ),
    );
    return run;
  }

  function connectionString(cfg: DbConfig): string {
    return renderConnectionUrl(cfg.connectionUrl, cfg.username, cfg.password, deps.defaultDatabaseUrl);
  }

  function poolFor(dbName: string): Pool {
    const cfg = configs.get(dbName);
    if (!cfg) throw new Error(`failed to find entry for connection with name: "${dbName}"`);
    let pool = pools.get(dbName);
    if (!pool) {
      pool = createPool(connectionString(cfg), cfg.maxOpenConnections, log);
      pools.set(dbName, pool);
    }
    return pool;
  }

  async function endPool(dbName: string): Promise<void> {
    const pool = pools.get(dbName);
    pools.delete(dbName);
    await pool?.end();
  }

  const backend: LeaseBackend = {
    async revoke(lease: Lease) {
      const internal = lease.internal as unknown as DbLeaseInternal;
      const role = roles.get(internal.role);
      const statements = role ? role.revocationStatements : internal.revocationStatements;
      const dbName = role ? role.dbName : internal.dbName;
      await serialized(dbName, async () => {
        const pool = poolFor(dbName);
        if (statements.length === 0) await defaultRevoke(pool, internal.username, log);
        else await runInTransaction(pool, statements, { name: internal.username });
      });
    },
    async renew(lease: Lease, expireAtMs: number) {
      const internal = lease.internal as unknown as DbLeaseInternal;
      const role = roles.get(internal.role);
      if (!role) throw new Error(`could not find role with name "${internal.role}"`);
      const statements = role.renewStatements.length > 0 ? role.renewStatements : DEFAULT_RENEW;
      const expiration = formatExpiration(expireAtMs + 5000);
      await serialized(role.dbName, () =>
        runInTransaction(poolFor(role.dbName), statements, { name: internal.username, expiration }),
      );
    },
  };

  async function writeConfig(cfg: DbConfig): Promise<void> {
    if (cfg.verifyConnection) {
      const probe = createPool(connectionString(cfg), 1, log);
      try {
        await probe.query('SELECT 1');
      } catch (err) {
        throw invalidRequest(
          `error creating database object: error verifying connection: ${(err as Error).message}`,
        );
      } finally {
        await probe.end();
      }
    }
    await endPool(cfg.name);
    configs.set(cfg.name, cfg);
  }

  /** `database/creds/:role` (spec §4): creation statements in one transaction, lease bound to the caller. */
  async function issueCredentials(roleName: string, caller: TokenEntry) {
    const role = roles.get(roleName);
    if (!role) throw invalidRequest(`unknown role: ${roleName}`);
    const cfg = configs.get(role.dbName);
    if (!cfg) throw new VaultApiError(500, `failed to find entry for connection with name: "${role.dbName}"`);
    if (!roleAllowed(cfg.allowedRoles, roleName))
      throw new VaultApiError(500, multiError(`"${roleName}" is not an allowed role`));
    const nowMs = deps.clock.now().getTime();
    const { ttl, warnings } = calculateTtl({
      increment: 0,
      backendTtl: role.defaultTtl,
      backendMaxTtl: role.maxTtl,
      explicitMaxTtl: 0,
      startMs: nowMs,
      nowMs,
    });
    const username = generateUsername(caller.displayName, roleName, nowMs);
    const password = generatePassword();
    // Vault sets VALID UNTIL a few seconds past the lease so the DB never expires it first (spec §4).
    const expiration = formatExpiration(nowMs + (ttl + 5) * 1000);
    await runInTransaction(poolFor(role.dbName), role.creationStatements, {
      name: username,
      password,
      expiration,
    });
    const internal: DbLeaseInternal = {
      username,
      role: roleName,
      dbName: role.dbName,
      revocationStatements: role.revocationStatements,
    };
    const lease = deps.leases.register({
      path: `database/creds/${roleName}`,
      tokenId: caller.id,
      ttl: role.defaultTtl,
      grantedTtl: ttl,
      maxTtl: role.maxTtl,
      renewable: true,
      internal: { ...internal },
      backend,
    });
    log.info({ leaseId: lease.id, role: roleName }, 'database credentials issued');
    return { lease, username, password, ttl, warnings };
  }

  return {
    configs,
    roles,
    writeConfig,
    async deleteConfig(name: string): Promise<void> {
      configs.delete(name);
      await endPool(name);
    },
    issueCredentials,
    async closePools(): Promise<void> {
      await Promise.all([...pools.keys()].map(endPool));
    },
    clear(): void {
      configs.clear();
      roles.clear();
    },
  };
}

export type DatabaseEngine = ReturnType<typeof createDatabaseEngine>;
