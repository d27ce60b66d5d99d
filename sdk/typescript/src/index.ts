export {
  type Discovered,
  DiscoveryError,
  discoverAuthorizationServer,
  resourceMetadataFromChallenge,
} from './client/discovery';
export {
  type AuthorizationServerMetadata,
  createGrantlineClient,
  type GrantlineClient,
  type GrantlineClientOptions,
} from './client/grantline-client';
export { JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './client/grants';
export type * from './client/types';
export { GrantCleanupError } from './client/with-grant';
export * from './errors';
export { DEFAULT_RETRY, type RetryMode, type RetryPolicy } from './http/retry';
export type { TlsOptions } from './http/tls-agent';
export type { TransportOptions } from './http/transport';
export { DEV_TRUST_DOMAIN, type DevTrustDomainOptions, devTrustDomain } from './identity/dev-trust-domain';
export type { IdentitySource, X509Svid } from './identity/identity-source';
export { type Expiring, refreshBeforeExpiry } from './identity/refresh';
export { staticToken } from './identity/static-token';
export { type SvidFilesOptions, svidFiles } from './identity/svid-files';
export {
  type WorkloadApiOptions,
  type WorkloadApiSource,
  workloadApi,
} from './identity/workload-api-source';
export {
  type GrantlineRequest,
  protectedResourceMetadata,
  type RequireTokenOptions,
  requireGrantlineToken,
} from './resource-server/express';
export {
  metadataUrlFor,
  type ProtectedResourceMetadata,
  WELL_KNOWN_PRM,
  wwwAuthenticate,
} from './resource-server/protected-resource';
export {
  type CallRequirements,
  createResourceServer,
  type ResourceServer,
  type ResourceServerOptions,
} from './resource-server/resource-server';
export {
  createRevocationFeed,
  type RevocationFeed,
  type RevocationFeedOptions,
} from './resource-server/revocation-feed';
export {
  type RejectionReason,
  TokenRejectedError,
  VerificationUnavailableError,
} from './resource-server/token-errors';
export { createUsageMeter, type UsageMeter, type UsageMeterOptions } from './resource-server/usage-meter';
export {
  ACCESS_TOKEN_TYP,
  argsDigest,
  certificateThumbprint,
  type VerifiedToken,
  type VerifyOptions,
  verifyAccessToken,
  verifyAccessToken as verify,
} from './resource-server/verify';
