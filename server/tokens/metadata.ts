import { requireIssuer } from './claim-rules';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8705 §2.1: mTLS with a certificate issued by a trusted CA (here, an X509-SVID). */
const DEFAULT_AUTH_METHODS = ['tls_client_auth'];

export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  response_types_supported: string[];
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  introspection_endpoint_auth_methods_supported: string[];
  revocation_endpoint_auth_methods_supported: string[];
  tls_client_certificate_bound_access_tokens: boolean;
  authorization_response_iss_parameter_supported: boolean;
  scopes_supported?: string[];
}

export interface MetadataOptions {
  /** Published only when given: the scope catalogue is the operator's choice to advertise. */
  scopesSupported?: string[];
  /** Client authentication methods the HTTP layer accepts; defaults to `tls_client_auth`. */
  authMethods?: string[];
}

/**
 * RFC 8414 §2 metadata for `/.well-known/oauth-authorization-server`. Grantline has no authorization
 * endpoint, so `authorization_endpoint` is omitted (§2 allows that when no grant type uses it) and
 * `response_types_supported` — REQUIRED — is empty: `["token"]` would advertise the implicit flow,
 * which Grantline does not run and RFC 9700 §2.1.2 says not to use. `grant_types_supported` is always
 * written, because when absent §2 defaults it to `["authorization_code", "implicit"]`.
 */
export function authorizationServerMetadata(
  issuer: string,
  opts: MetadataOptions = {},
): AuthorizationServerMetadata {
  requireIssuer(issuer);
  const authMethods = [...(opts.authMethods ?? DEFAULT_AUTH_METHODS)];
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    response_types_supported: [],
    grant_types_supported: [TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: [...authMethods],
    revocation_endpoint_auth_methods_supported: [...authMethods],
    tls_client_certificate_bound_access_tokens: true,
    // RFC 9207 §3 (MCP authorization asks for it): every answer that issues a grant or refuses one
    // names its issuer in `iss`, so a client talking to several authorization servers cannot mix them up.
    authorization_response_iss_parameter_supported: true,
    ...(opts.scopesSupported ? { scopes_supported: [...opts.scopesSupported] } : {}),
  };
}
