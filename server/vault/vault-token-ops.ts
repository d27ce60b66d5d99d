import type { Logger } from '../shared/logger';
import type { VaultAdapter } from './vault.types';
import { checkId, childTokenBody, orphanTokenBody } from './vault-input';
import { toMintedToken, toTokenInfo } from './vault-response';
import { ignoreNotFound, nullIfNotFound, type VaultTransport } from './vault-transport';

/**
 * Revoking a task's token revokes its whole subtree in the request (OpenBao: about 1 ms per child token,
 * one after another; 10 s for a task of 10,000 grants). Cut off at the usual deadline, the worker would
 * fall back to revoking the children one by one while Vault is still doing it.
 */
const REVOKE_TREE_DEADLINE_MS = 60_000;

export interface OpsDeps {
  transport: VaultTransport;
  /** The broker's own Vault token: the acting token of every call that is not made AS another token. */
  broker: string;
  logger: Logger;
}

type TokenOps = Pick<
  VaultAdapter,
  'createOrphanToken' | 'createChildToken' | 'lookupTokenByAccessor' | 'revokeTokenByAccessor'
>;

/**
 * Token tree operations. Tokens are always created with a plain write to `auth/token/…` and an explicit
 * per-call acting token, never node-vault's token helpers, which replace the client's own token
 * (specs/vault-api.md §7.3 pitfall 1). Creation is not idempotent and is never retried.
 */
export function createTokenOps({ transport, broker, logger }: OpsDeps): TokenOps {
  return {
    async createOrphanToken(o) {
      const path = 'auth/token/create-orphan';
      const c = {
        op: 'createOrphanToken',
        method: 'write',
        path,
        token: broker,
        body: orphanTokenBody(o),
      } as const;
      const minted = toMintedToken(await transport.call({ ...c, idempotent: false }), c, true);
      logger.info({ accessor: minted.accessor, ttl: minted.leaseDuration }, 'vault orphan token created');
      return minted;
    },

    async createChildToken(parentToken, o) {
      // Acting AS the parent makes the new token its child: revoking the parent revokes it (§2.5).
      const token = checkId('token', parentToken);
      const c = {
        op: 'createChildToken',
        method: 'write',
        path: 'auth/token/create',
        token,
        body: childTokenBody(o),
      } as const;
      const minted = toMintedToken(await transport.call({ ...c, idempotent: false }), c, false);
      // At debug: one per grant, and the grant's own line ("grant issued") names the accessor.
      logger.debug({ accessor: minted.accessor, ttl: minted.leaseDuration }, 'vault child token created');
      return minted;
    },

    async lookupTokenByAccessor(accessor) {
      const logFields = { accessor: checkId('accessor', accessor) };
      const path = 'auth/token/lookup-accessor';
      const c = {
        op: 'lookupTokenByAccessor',
        method: 'write',
        path,
        token: broker,
        body: { accessor },
      } as const;
      const body = await nullIfNotFound(transport.call({ ...c, idempotent: true, logFields }));
      return body === null ? null : toTokenInfo(body, c);
    },

    async revokeTokenByAccessor(accessor) {
      const logFields = { accessor: checkId('accessor', accessor) };
      // Revokes the token and its whole subtree with their leases. An unknown accessor answers 200 with a
      // warning, or 400 `invalid accessor` on some versions: both mean "already gone" (§2.4).
      const path = 'auth/token/revoke-accessor';
      const c = {
        op: 'revokeTokenByAccessor',
        method: 'write',
        path,
        token: broker,
        body: { accessor },
        deadlineMs: REVOKE_TREE_DEADLINE_MS,
      } as const;
      await ignoreNotFound(transport.call({ ...c, idempotent: true, logFields }), logger, logFields);
    },
  };
}
