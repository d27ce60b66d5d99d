import type { Logger } from '../shared/logger';
import { VaultNotFound } from './vault.errors';
import type { VaultAdapter, VaultConfig } from './vault.types';
import { createRawVaultClient, type RawVaultClient, validateVaultConfig } from './vault-client';
import { checkId, checkPolicyName, checkRevokePrefix, childTokenBody, orphanTokenBody } from './vault-input';
import {
  toDynamicSecret,
  toHealth,
  toKvData,
  toLeaseInfo,
  toMintedToken,
  toTokenInfo,
} from './vault-response';
import { createVaultTransport, type VaultCall } from './vault-transport';

const DEFAULT_RETRIES = 2;

export interface VaultAdapterDeps {
  logger: Logger;
  /** Test seam: replaces node-vault (e.g. to count calls). Production passes nothing. */
  rawClient?: RawVaultClient;
  backoffBaseMs?: number;
}

/**
 * The only code in Grantline that talks to Vault (DESIGN.md "Parts"). Tokens are always created with
 * `write('auth/token/…')` and an explicit per-call acting token, never node-vault's token helpers, which
 * replace the client's own token (specs/vault-api.md §7.3). Token creation and dynamic secret reads are
 * not idempotent and are never retried.
 */
export function createVaultAdapter(config: VaultConfig, deps: VaultAdapterDeps): VaultAdapter {
  validateVaultConfig(config);
  const logger = deps.logger.child({ module: 'vault' });
  const transport = createVaultTransport({
    client: deps.rawClient ?? createRawVaultClient(config),
    logger,
    timeoutMs: config.timeoutMs,
    retries: config.retries ?? DEFAULT_RETRIES,
    ...(deps.backoffBaseMs === undefined ? {} : { backoffBaseMs: deps.backoffBaseMs }),
  });
  const broker = config.token;
  const ctx = (c: VaultCall) => ({ op: c.op, path: c.path });
  const call = (c: VaultCall) => transport.call(c).then((body) => ({ body, ctx: ctx(c) }));

  /** Idempotent removals: "no such object" means the goal is already reached. */
  const ignoreNotFound = async (work: Promise<unknown>, fields: Record<string, string>): Promise<void> => {
    try {
      await work;
    } catch (err) {
      if (!(err instanceof VaultNotFound)) throw err;
      logger.debug({ ...fields }, 'vault object already gone');
    }
  };

  const adapter: VaultAdapter = {
    async createOrphanToken(o) {
      const c: VaultCall = {
        op: 'createOrphanToken',
        method: 'write',
        path: 'auth/token/create-orphan',
        token: broker,
        body: orphanTokenBody(o),
        idempotent: false,
      };
      const { body, ctx } = await call(c);
      const minted = toMintedToken(body, ctx, true);
      logger.info({ accessor: minted.accessor, ttl: minted.leaseDuration }, 'vault orphan token created');
      return minted;
    },

    async createChildToken(parentToken, o) {
      const c: VaultCall = {
        op: 'createChildToken',
        method: 'write',
        path: 'auth/token/create',
        token: checkId('token', parentToken),
        body: childTokenBody(o),
        idempotent: false,
      };
      const { body, ctx } = await call(c);
      const minted = toMintedToken(body, ctx, false);
      logger.info({ accessor: minted.accessor, ttl: minted.leaseDuration }, 'vault child token created');
      return minted;
    },

    async readDynamicSecret(token, path) {
      const c: VaultCall = { op: 'readDynamicSecret', method: 'read', path, token, idempotent: false };
      const { body, ctx } = await call(c);
      const secret = toDynamicSecret(body, ctx);
      logger.info(
        { path, leaseId: secret.leaseId, ttl: secret.leaseDuration },
        'vault dynamic secret issued',
      );
      return secret;
    },

    async readKv(token, path) {
      const { body, ctx } = await call({ op: 'readKv', method: 'read', path, token, idempotent: true });
      return toKvData(body, ctx);
    },

    async revokeTokenByAccessor(accessor) {
      const logFields = { accessor: checkId('accessor', accessor) };
      // Unknown accessor: 200 with a warning, or 400 `invalid accessor` on some versions (§2.4).
      const c: VaultCall = {
        op: 'revokeTokenByAccessor',
        method: 'write',
        path: 'auth/token/revoke-accessor',
        token: broker,
        body: { accessor },
        idempotent: true,
        logFields,
      };
      await ignoreNotFound(transport.call(c), logFields);
    },

    async revokeLease(leaseId) {
      const logFields = { leaseId: checkId('lease id', leaseId) };
      // No `sync` field: the server default is synchronous (204); `sync:false` answers 202, which node-vault
      // rejects (specs/vault-api.md §3.2, §7.2). An unknown lease is a 204 no-op.
      const c: VaultCall = {
        op: 'revokeLease',
        method: 'write',
        path: 'sys/leases/revoke',
        token: broker,
        body: { lease_id: leaseId },
        idempotent: true,
        logFields,
      };
      await ignoreNotFound(transport.call(c), logFields);
    },

    async revokeLeasePrefix(prefix) {
      const p = checkRevokePrefix(prefix);
      // Never the legacy `sys/revoke-prefix/…`: removed in OpenBao 2.5.4 (specs/vault-api.md §3.2).
      const path = `sys/leases/revoke-prefix/${p}`;
      await transport.call({
        op: 'revokeLeasePrefix',
        method: 'write',
        path,
        token: broker,
        idempotent: true,
      });
    },

    async lookupLease(leaseId) {
      const logFields = { leaseId: checkId('lease id', leaseId) };
      const c: VaultCall = {
        op: 'lookupLease',
        method: 'write',
        path: 'sys/leases/lookup',
        token: broker,
        body: { lease_id: leaseId },
        idempotent: true,
        logFields,
      };
      try {
        const { body, ctx } = await call(c);
        return toLeaseInfo(body, ctx);
      } catch (err) {
        if (err instanceof VaultNotFound) return null;
        throw err;
      }
    },

    async lookupTokenByAccessor(accessor) {
      const logFields = { accessor: checkId('accessor', accessor) };
      const c: VaultCall = {
        op: 'lookupTokenByAccessor',
        method: 'write',
        path: 'auth/token/lookup-accessor',
        token: broker,
        body: { accessor },
        idempotent: true,
        logFields,
      };
      try {
        const { body, ctx } = await call(c);
        return toTokenInfo(body, ctx);
      } catch (err) {
        if (err instanceof VaultNotFound) return null;
        throw err;
      }
    },

    async health() {
      const { body, ctx } = await call({
        op: 'health',
        method: 'read',
        path: 'sys/health',
        idempotent: true,
      });
      return toHealth(body, ctx);
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
  return adapter;
}
