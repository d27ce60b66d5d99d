/**
 * How to reach Vault. `tls.ca`/`cert`/`key` take PEM text or a path to a PEM file. `retries` bounds the
 * extra attempts of idempotent calls (lookups, revocations, KV reads, health) when Vault is unavailable.
 */
export interface VaultConfig {
  addr: string;
  token: string;
  namespace?: string;
  timeoutMs: number;
  retries?: number;
  tls?: { ca?: string; cert?: string; key?: string; skipVerify?: boolean };
}

/** A freshly created Vault token. `clientToken` is a secret: hold it in memory, store only `accessor`. */
export interface MintedToken {
  clientToken: string;
  accessor: string;
  policies: string[];
  leaseDuration: number;
  renewable: boolean;
  orphan: boolean;
}

/** A dynamic secret; its lease belongs to the token that read it. `data` holds secret values. */
export interface DynamicSecret {
  leaseId: string;
  leaseDuration: number;
  renewable: boolean;
  data: Record<string, unknown>;
}

export interface LeaseInfo {
  id: string;
  expireTime: string | null;
  ttl: number;
  renewable: boolean;
  /** OpenBao (and the dev server) report the last failed revocation attempt here. */
  revokeError?: string;
}

export interface TokenInfo {
  accessor: string;
  policies: string[];
  ttl: number;
  expireTime: string | null;
  orphan: boolean;
  meta: Record<string, string> | null;
}

export interface VaultHealth {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  version: string;
}

export interface CreateOrphanTokenInput {
  policies: string[];
  ttlSeconds: number;
  displayName: string;
  meta?: Record<string, string>;
  renewable?: boolean;
}

export interface CreateChildTokenInput {
  policies: string[];
  ttlSeconds: number;
  displayName: string;
  meta?: Record<string, string>;
  explicitMaxTtlSeconds?: number;
}

/** The only way Grantline talks to Vault. Every method throws the typed errors of `vault.errors.ts`. */
export interface VaultAdapter {
  /** Creates a task token with the broker's token (`auth/token/create-orphan`): it roots its own tree. */
  createOrphanToken(o: CreateOrphanTokenInput): Promise<MintedToken>;
  /** Creates a child of `parentToken`, acting AS that token, so revoking the parent revokes the child. */
  createChildToken(parentToken: string, o: CreateChildTokenInput): Promise<MintedToken>;
  /** Reads a dynamic secret WITH `token`, so the lease belongs to (and dies with) that token. */
  readDynamicSecret(token: string, path: string): Promise<DynamicSecret>;
  /** Reads a KV v2 secret (`secret/data/<p>`) with `token`; returns `data.data`. */
  readKv(token: string, path: string): Promise<Record<string, unknown>>;
  /** Revokes a token and its subtree by accessor (broker token). An unknown accessor is not an error. */
  revokeTokenByAccessor(accessor: string): Promise<void>;
  /** Revokes one lease synchronously. An unknown lease is not an error. */
  revokeLease(leaseId: string): Promise<void>;
  /** Revokes every lease under `prefix` (`sys/leases/revoke-prefix/…`, never the legacy path). */
  revokeLeasePrefix(prefix: string): Promise<void>;
  /** Null when Vault says the lease does not exist (`invalid lease`). */
  lookupLease(leaseId: string): Promise<LeaseInfo | null>;
  /**
   * Renews a lease to `incrementSeconds` from now (also shorter than it has: Vault sets the TTL to the
   * increment); returns the lease's new duration. For a database lease, Vault runs the role's renew
   * statements, which move the login's VALID UNTIL.
   */
  renewLease(leaseId: string, incrementSeconds: number): Promise<number>;
  /** Lease ids under a prefix such as `database/creds/demo-read/` (sudo; empty when none). */
  listLeases(prefix: string): Promise<string[]>;
  /** Every token accessor Vault holds (sudo; reconciliation only). */
  listTokenAccessors(): Promise<string[]>;
  /** Null when no live token has this accessor (never existed, expired or revoked). */
  lookupTokenByAccessor(accessor: string): Promise<TokenInfo | null>;
  /** `sys/health`; a sealed Vault is reported, not thrown. Network failures throw VaultUnavailable. */
  health(): Promise<VaultHealth>;
  /** Writes an ACL policy (`sys/policies/acl/<name>`); `policy` is the JSON form of the HCL document. */
  writePolicy(name: string, policy: object): Promise<void>;
  /** Generic authenticated write with the broker token (admin set-up and tests). Not retried. */
  write(path: string, body: object): Promise<unknown>;
}
