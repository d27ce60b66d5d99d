import type { Access } from '../access/access';
import type { Db } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { RevocationFeed } from '../revocation/feed';
import type { Clock } from '../shared/clock';
import { actClaimFromChain, type TokenIssuer } from '../tokens/access-token';
import { findGrantForIntrospection } from './grant.repository';

export interface IntrospectionDeps {
  db: Db;
  tokens: TokenIssuer;
  access: Access;
  clock: Clock;
  feed: RevocationFeed;
}

const INACTIVE = Object.freeze({ active: false as const });

export function createIntrospectionService(deps: IntrospectionDeps) {
  /** Verifies the signature, then asks PostgreSQL: a grant is active only while it and its task are. */
  async function lookup(token: string) {
    let claims: Awaited<ReturnType<TokenIssuer['verifyAccessToken']>>;
    try {
      claims = await deps.tokens.verifyAccessToken(token);
    } catch {
      return undefined;
    }
    const row = await findGrantForIntrospection(deps.db, claims.grantId);
    const live =
      row &&
      row.status === 'active' &&
      row.task_status === 'open' &&
      row.expires_at.getTime() > deps.clock.now().getTime();
    return live ? { claims } : undefined;
  }

  /**
   * RFC 7662. A dead, revoked, expired, foreign or unknown token is exactly `{"active": false}` (§2.2:
   * no reason given). An active one carries the whole `act` chain and `task_id`.
   */
  async function introspect(principal: Principal, token: string) {
    // Every call is a decision on the record (who asked about which tokens, and when).
    await deps.access.authorizeRead(principal, { action: 'Introspect' });
    const found = await lookup(token);
    if (!found) return INACTIVE;
    const { claims } = found;
    return {
      active: true,
      iss: claims.issuer,
      sub: claims.subject,
      aud: claims.audiences.length === 1 ? claims.audiences[0] : claims.audiences,
      client_id: claims.clientId,
      scope: claims.scopes.join(' '),
      token_type: 'Bearer',
      jti: claims.grantId,
      task_id: claims.taskId,
      iat: Math.floor(claims.issuedAt.getTime() / 1000),
      exp: Math.floor(claims.expiresAt.getTime() / 1000),
      act: actClaimFromChain(claims.chain),
      ...(claims.certThumbprint ? { cnf: { 'x5t#S256': claims.certThumbprint } } : {}),
      // The exact call a digest-bound approval covers: the tool compares it with the digest of its arguments.
      ...(claims.argsDigest ? { args_digest: claims.argsDigest } : {}),
    };
  }

  /** The feed of revoked grant ids (`jti`) after a sequence number, for caches and gateways. */
  async function revocations(principal: Principal, q: { after: number; limit: number; taskId?: string }) {
    await deps.access.authorizeRead(principal, { action: 'ReadRevocations' });
    return deps.feed.read(q);
  }

  return { introspect, lookup, revocations };
}

export type IntrospectionService = ReturnType<typeof createIntrospectionService>;
