import { fetch } from 'undici';
import type { ProtectedResourceMetadata } from '../resource-server/protected-resource';
import { metadataUrlFor } from '../resource-server/protected-resource';
import type { AuthorizationServerMetadata } from './grantline-client';

export class DiscoveryError extends Error {
  readonly code = 'discovery_failed';
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

export interface Discovered {
  resource: ProtectedResourceMetadata;
  authorizationServer: AuthorizationServerMetadata;
}

/** `resource_metadata="…"` from an RFC 6750 challenge (RFC 9728 §5.1). */
export function resourceMetadataFromChallenge(header: string | null): string | undefined {
  return header ? /resource_metadata="([^"]+)"/.exec(header)?.[1] : undefined;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new DiscoveryError(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/**
 * How an agent finds who issues tokens for a resource (the MCP authorization flow): call the resource
 * without a token and read `resource_metadata` from the 401 challenge (else use the RFC 9728 well-known
 * URL), fetch the protected-resource metadata, check its `resource` is the URL asked about (RFC 9728 §3.3),
 * then fetch the first authorization server's RFC 8414 metadata and check its `issuer` (RFC 8414 §3.3).
 */
export async function discoverAuthorizationServer(resourceUrl: string): Promise<Discovered> {
  const probe = await fetch(resourceUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: '{}',
    signal: AbortSignal.timeout(10_000),
  });
  await probe.body?.cancel();
  const prmUrl =
    (probe.status === 401 && resourceMetadataFromChallenge(probe.headers.get('www-authenticate'))) ||
    metadataUrlFor(resourceUrl);
  const resource = await getJson<ProtectedResourceMetadata>(prmUrl);
  if (resource.resource !== resourceUrl)
    throw new DiscoveryError(`the metadata at ${prmUrl} is for ${resource.resource}, not ${resourceUrl}`);
  const issuer = resource.authorization_servers?.[0];
  if (!issuer) throw new DiscoveryError(`${prmUrl} names no authorization server`);
  const asUrl = `${new URL(issuer).origin}/.well-known/oauth-authorization-server${new URL(issuer).pathname.replace(/\/$/, '')}`;
  const authorizationServer = await getJson<AuthorizationServerMetadata>(asUrl);
  if (authorizationServer.issuer !== issuer)
    throw new DiscoveryError(`${asUrl} says its issuer is ${authorizationServer.issuer}, not ${issuer}`);
  return { resource, authorizationServer };
}
