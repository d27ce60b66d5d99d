import type { TokenIssuer } from '../../tokens/access-token';
import { authorizationServerMetadata } from '../../tokens/metadata';
import type { Handler } from './route-helpers';

/** Public endpoints: no SVID needed to fetch keys and metadata (RFC 8414, RFC 7517). */
export function wellKnownHandlers(deps: { tokens: TokenIssuer; scopes: string[] }) {
  return {
    jwks(_req, res) {
      res.set('Cache-Control', 'public, max-age=300').json(deps.tokens.jwks());
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
