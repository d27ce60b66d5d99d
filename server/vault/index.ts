export { type CustodyKind, createTokenCustody, grantNeedsCustody, type TokenCustody } from './token-custody';
export {
  VaultBadResponse,
  VaultDenied,
  VaultNotFound,
  VaultRequestError,
  VaultUnavailable,
} from './vault.errors';
export type {
  CreateChildTokenInput,
  CreateOrphanTokenInput,
  DynamicSecret,
  LeaseInfo,
  MintedToken,
  TokenInfo,
  VaultAdapter,
  VaultConfig,
  VaultHealth,
} from './vault.types';
export { createVaultAdapter, type VaultAdapterDeps } from './vault-adapter';
export { VaultConfigInvalid } from './vault-client';
