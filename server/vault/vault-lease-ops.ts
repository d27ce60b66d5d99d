import { VaultBadResponse } from './vault.errors';
import type { VaultAdapter } from './vault.types';
import { checkId, checkRevokePrefix } from './vault-input';
import { toDynamicSecret, toKvData, toLeaseInfo } from './vault-response';
import type { OpsDeps } from './vault-token-ops';
import { ignoreNotFound, nullIfNotFound } from './vault-transport';

type SecretOps = Pick<
  VaultAdapter,
  | 'readDynamicSecret'
  | 'readKv'
  | 'revokeLease'
  | 'revokeLeasePrefix'
  | 'lookupLease'
  | 'renewLease'
  | 'listLeases'
  | 'listTokenAccessors'
>;

/** `data.keys` of a LIST answer; a 404 (nothing there) is an empty list. */
async function keysOf(call: Promise<unknown>): Promise<string[]> {
  const body = (await nullIfNotFound(call)) as { data?: { keys?: unknown } } | null;
  const keys = body?.data?.keys;
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
}

/** Secrets and their leases. A dynamic read creates a lease, so it is never retried. */
export function createSecretOps({ transport, broker, logger }: OpsDeps): SecretOps {
  return {
    async readDynamicSecret(token, path) {
      // Read WITH the grant's token: the lease then belongs to that token and dies with it (§4).
      const c = { op: 'readDynamicSecret', method: 'read', path, token } as const;
      const secret = toDynamicSecret(await transport.call({ ...c, idempotent: false }), c);
      logger.info(
        { path, leaseId: secret.leaseId, ttl: secret.leaseDuration },
        'vault dynamic secret issued',
      );
      return secret;
    },

    async readKv(token, path) {
      const c = { op: 'readKv', method: 'read', path, token } as const;
      return toKvData(await transport.call({ ...c, idempotent: true }), c);
    },

    async revokeLease(leaseId) {
      const logFields = { leaseId: checkId('lease id', leaseId) };
      // No `sync` field: the server default is synchronous (204); `sync:false` answers 202, which the client
      // rejects (specs/vault-api.md §3.2, §7.2). An unknown lease is a 204 no-op.
      const c = { op: 'revokeLease', method: 'write', path: 'sys/leases/revoke', token: broker } as const;
      const call = transport.call({ ...c, body: { lease_id: leaseId }, idempotent: true, logFields });
      await ignoreNotFound(call, logger, logFields);
    },

    async revokeLeasePrefix(prefix) {
      // Never node-vault's revokePrefix: it uses the legacy `sys/revoke-prefix/…`, gone in OpenBao 2.5.4 (§3.2).
      const path = `sys/leases/revoke-prefix/${checkRevokePrefix(prefix)}`;
      await transport.call({
        op: 'revokeLeasePrefix',
        method: 'write',
        path,
        token: broker,
        idempotent: true,
      });
    },

    async renewLease(leaseId, incrementSeconds) {
      const logFields = { leaseId: checkId('lease id', leaseId) };
      // Not retried: a renew that Vault applied but whose answer was lost would be applied again anyway
      // (same increment from a later now), but the caller treats a failure as "mint failed" and revokes.
      const c = { op: 'renewLease', method: 'write', path: 'sys/leases/renew', token: broker } as const;
      const body = (await transport.call({
        ...c,
        body: { lease_id: leaseId, increment: Math.max(1, Math.floor(incrementSeconds)) },
        idempotent: false,
        logFields,
      })) as { lease_duration?: unknown } | null;
      if (typeof body?.lease_duration !== 'number')
        throw new VaultBadResponse({ ctx: c, problem: 'renew answer without lease_duration' });
      return body.lease_duration;
    },

    async listLeases(prefix) {
      const path = `sys/leases/lookup/${checkRevokePrefix(prefix.replace(/\/$/, ''))}`;
      const keys = await keysOf(
        transport.call({ op: 'listLeases', method: 'list', path, token: broker, idempotent: true }),
      );
      const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
      return keys.filter((k) => !k.endsWith('/')).map((k) => `${base}${k}`);
    },

    async listTokenAccessors() {
      return keysOf(
        transport.call({
          op: 'listTokenAccessors',
          method: 'list',
          path: 'auth/token/accessors',
          token: broker,
          idempotent: true,
        }),
      );
    },

    async lookupLease(leaseId) {
      const logFields = { leaseId: checkId('lease id', leaseId) };
      const c = { op: 'lookupLease', method: 'write', path: 'sys/leases/lookup', token: broker } as const;
      const body = await nullIfNotFound(
        transport.call({ ...c, body: { lease_id: leaseId }, idempotent: true, logFields }),
      );
      return body === null ? null : toLeaseInfo(body, c);
    },
  };
}
