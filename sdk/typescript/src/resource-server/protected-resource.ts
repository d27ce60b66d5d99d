/** RFC 9728 §2 protected-resource metadata, the fields Grantline's resource servers publish. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  jwks_uri?: string;
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_signing_alg_values_supported?: string[];
  resource_name?: string;
  tls_client_certificate_bound_access_tokens?: boolean;
}

export const WELL_KNOWN_PRM = '/.well-known/oauth-protected-resource';

/**
 * RFC 9728 §3.1: the metadata URL inserts the well-known path between the host and the resource's path
 * (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
 */
export function metadataUrlFor(resource: string): string {
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return `${u.origin}${WELL_KNOWN_PRM}${path}`;
}

function quoted(v: string): string {
  return `"${v.replace(/["\\]/g, '')}"`;
}

/**
 * RFC 6750 §3 challenge with the RFC 9728 §5.1 `resource_metadata` parameter, so a client that got a 401
 * (or 403) can discover the authorization server. A request without any token gets no `error` (§3.1).
 */
export function wwwAuthenticate(o: {
  resourceMetadataUrl: string;
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  description?: string;
  scopes?: string[];
}): string {
  const parts = [`resource_metadata=${quoted(o.resourceMetadataUrl)}`];
  if (o.error) parts.push(`error=${quoted(o.error)}`);
  if (o.description) parts.push(`error_description=${quoted(o.description)}`);
  if (o.scopes?.length) parts.push(`scope=${quoted(o.scopes.join(' '))}`);
  return `Bearer ${parts.join(', ')}`;
}
