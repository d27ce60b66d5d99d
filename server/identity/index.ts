export {
  type Actor,
  actorId,
  CONSOLE_ROLES,
  type ConsoleRole,
  type HumanPrincipal,
  isHuman,
} from './human';
export {
  type AuthFailureReason,
  BundleError,
  IdentityConfigError,
  InvalidSpiffeId,
  type SpiffeIdProblem,
} from './identity.errors';
export { createIdentityService } from './identity.service';
export type { IdentityConfig, IdentityDeps, IdentityService, Principal } from './identity.types';
export { DEV_TRUST_DOMAIN } from './identity-config';
export { JWT_SVID_ALGORITHMS } from './jwt-svid-verifier';
export { isSpiffeId, parseSpiffeId, parseTrustDomain, type SpiffeId, trustDomainId } from './spiffe-id';
export type { RefreshResult } from './trust-store';
export { certThumbprint } from './x509-svid-verifier';
