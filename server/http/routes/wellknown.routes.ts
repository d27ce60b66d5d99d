import type { JWK } from 'jose';
import type { TokenIssuer } from '../../tokens/access-token';
import { authorizationServerMetadata } from '../../tokens/metadata';
import type { Handler } from './route-helpers';

/**
 * Public endpoints: no SVID needed to fetch keys and metadata (RFC 8414, RFC 7517). The JWKS also holds
 * the audit checkpoint keys (`use: "audit"`), which token verifiers skip.
 */
export function wellKnownHandlers(deps: {
  tokens: TokenIssuer;
  scopes: string[];
  auditKeys?: { jwks(): { keys: JWK[] } };
}) {
  return {
    jwks(_req, res) {
      const keys = [...deps.tokens.jwks().keys, ...(deps.auditKeys?.jwks().keys ?? [])];
      res.set('Cache-Control', 'public, max-age=300').json({ keys });
    },
    metadata(_req, res) {
      res.json(
        authorizationServerMetadata(deps.tokens.issuer, {
          scopesSupported: deps.scopes,
          authMethods: ['tls_client_auth', 'spiffe_jwt'],
        }),
      );
    },
  } satisfies Record<string, Handler>;
}
