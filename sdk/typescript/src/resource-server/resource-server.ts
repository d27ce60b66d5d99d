import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { type AuthorizationServerMetadata, createGrantlineClient } from '../client/grantline-client';
import type { TransportOptions } from '../http/transport';
import type { IdentitySource } from '../identity/identity-source';
import { metadataUrlFor, type ProtectedResourceMetadata } from './protected-resource';
import { createRevocationFeed, type RevocationFeed, type RevocationFeedOptions } from './revocation-feed';
import { TokenRejectedError, VerificationUnavailableError } from './token-errors';
import { createUsageMeter, type UsageMeter, type UsageMeterOptions } from './usage-meter';
import { type VerifiedToken, type VerifyOptions, verifyAccessToken } from './verify';

export interface ResourceServerOptions {
  /** Grantline's base URL (the authorization server). */
  broker: string;
  /** This resource's canonical URL: tokens must carry it in `aud` (RFC 8707, RFC 9728 `resource`). */
  resource: string;
  /** The resource server's own SVID: reads the revocation feed and calls introspection. */
  identity: IdentitySource;
  /** Options for calls to the broker (SVID audience, mTLS, TLS trust, timeouts). */
  brokerClient?: Omit<TransportOptions, 'url' | 'identity'>;
  /** Default: the broker's RFC 8414 `issuer`. */
  issuer?: string;
  /** Default: a remote JWKS at the broker's `jwks_uri` (cached, refetched on an unknown `kid`). */
  jwks?: JWTVerifyGetKey;
  /** Published in the RFC 9728 metadata. */
  scopesSupported?: string[];
  resourceName?: string;
  /** `false` to never subscribe: every token is then introspected. */
  feed?: false | RevocationFeedOptions;
  /**
   * Action metering: calls recorded with `recordCall` (the middleware records each request it lets
   * through) are reported to the broker in batches. `false` reports nothing.
   */
  usage?: false | UsageMeterOptions;
  clockToleranceSeconds?: number;
}

export interface CallRequirements {
  scopes?: string[];
  argsDigest?: string;
  clientCertificate?: VerifyOptions['clientCertificate'];
}

/**
 * The resource-server kit: verifies Grantline access tokens for one resource and refuses revoked ones from
 * the revocation feed (no broker call per request); while the feed is down it introspects each token, and
 * if that fails too it refuses (VerificationUnavailableError, 503): it never accepts a token it could not
 * check.
 */
export async function createResourceServer(o: ResourceServerOptions) {
  const client = createGrantlineClient({ url: o.broker, identity: o.identity, ...o.brokerClient });
  let metadata: AuthorizationServerMetadata | undefined;
  if (!o.issuer || !o.jwks) metadata = await client.metadata();
  const issuer = o.issuer ?? metadata!.issuer;
  const jwks = o.jwks ?? createRemoteJWKSet(new URL(metadata!.jwks_uri));
  const feed: RevocationFeed | undefined =
    o.feed === false ? undefined : createRevocationFeed(client.transport, o.feed ?? {});
  const resourceMetadataUrl = metadataUrlFor(o.resource);
  // Grants the broker said it revoked in answer to a usage report: refused at once, before the feed says so.
  const revokedHere = new Set<string>();
  const meter: UsageMeter | undefined =
    o.usage === false ? undefined : createUsageMeter(client.grants.reportUsage, o.usage ?? {});
  meter?.on('revoked', (ids: string[]) => {
    for (const id of ids) revokedHere.add(id);
  });

  async function stillActive(token: VerifiedToken): Promise<boolean> {
    if (revokedHere.has(token.jti)) return false;
    if (feed?.isLive()) return !feed.isRevoked(token.jti);
    let answer: Awaited<ReturnType<typeof client.introspect>>;
    try {
      answer = await client.introspect(token.token);
    } catch (err) {
      throw new VerificationUnavailableError(err);
    }
    return answer.active && answer.jti === token.jti;
  }

  return {
    resource: o.resource,
    issuer,
    resourceMetadataUrl,
    feed,
    meter,
    /**
     * Counts one tool call made with a verified token against its grant's actions (reported in the next
     * batch). When the report spends the grant's share, the broker revokes it and later calls are refused.
     */
    recordCall(token: Pick<VerifiedToken, 'jti'>, call: { cost?: number; tool?: string } = {}) {
      meter?.record(token.jti, call);
    },
    /** Verifies the token for this resource and this call; throws TokenRejectedError (401/403). */
    async verify(token: string, req: CallRequirements = {}): Promise<VerifiedToken> {
      const verified = await verifyAccessToken(token, {
        issuer,
        audience: o.resource,
        jwks,
        ...req,
        ...(o.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: o.clockToleranceSeconds } : {}),
      });
      if (!(await stillActive(verified)))
        throw new TokenRejectedError('revoked', 'the grant behind this token was revoked');
      return verified;
    },
    /** RFC 9728 §2 metadata naming Grantline as the authorization server. */
    metadata(): ProtectedResourceMetadata {
      return {
        resource: o.resource,
        authorization_servers: [issuer],
        ...(metadata?.jwks_uri ? { jwks_uri: metadata.jwks_uri } : {}),
        ...(o.scopesSupported ? { scopes_supported: o.scopesSupported } : {}),
        bearer_methods_supported: ['header'],
        resource_signing_alg_values_supported: ['ES256'],
        ...(o.resourceName ? { resource_name: o.resourceName } : {}),
        tls_client_certificate_bound_access_tokens: true,
      };
    },
    async close() {
      await meter?.close();
      await feed?.close();
      await client.close();
    },
  };
}

export type ResourceServer = Awaited<ReturnType<typeof createResourceServer>>;
