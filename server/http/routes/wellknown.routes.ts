import { Router } from 'express';
import type { JWK } from 'jose';
import type { TokenIssuer } from '../../tokens/access-token';
import { authorizationServerMetadata } from '../../tokens/metadata';

/**
 * Public endpoints: no SVID needed to fetch keys and metadata (RFC 8414, RFC 7517). The JWKS also holds
 * the audit checkpoint keys (`use: "audit"`), which token verifiers skip.
 */
export function wellKnownRoutes(deps: {
  tokens: TokenIssuer;
  scopes: string[];
  auditKeys?: { jwks(): { keys: JWK[] } };
}): Router {
  const r = Router();
  r.get('/.well-known/jwks.json', (_req, res) => {
    const keys = [...deps.tokens.jwks().keys, ...(deps.auditKeys?.jwks().keys ?? [])];
    res.set('Cache-Control', 'public, max-age=300').json({ keys });
  });
  r.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.json(
      authorizationServerMetadata(deps.tokens.issuer, {
        scopesSupported: deps.scopes,
        authMethods: ['tls_client_auth', 'spiffe_jwt'],
      }),
    );
  });
  return r;
}
