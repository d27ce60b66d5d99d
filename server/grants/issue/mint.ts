import { resolveConnectionFacts, type ScopeCatalogue, vaultPoliciesFor } from '../../config/scope-catalogue';
import type { LeaseKind } from '../../db/database';
import type { TrackedHandle } from '../../revocation/outbox';
import type { MintedToken, TokenCustody, VaultAdapter } from '../../vault';
import { CHILD_TOKEN_POLICY } from '../../vault/child-token-policy';

/** Something minted in Vault that must be tracked (and revoked): a token by accessor or a lease by id. */
export interface MintedHandle extends TrackedHandle {
  kind: Exclude<LeaseKind, 'task_token'>;
  /** Already recorded (the grant token is, the moment it exists): not to be recorded again. */
  tracked?: boolean;
}

export interface IssuedSecret {
  scope: string;
  kind: 'dynamic' | 'kv' | 'token';
  data: Record<string, unknown>;
  lease_id: string | null;
  lease_duration: number | null;
  connection?: Record<string, string | number>;
}

export interface MintResult {
  grantToken: MintedToken;
  secrets: IssuedSecret[];
  handles: MintedHandle[];
}

/** Minting stopped half-way: `handles` is what exists in Vault and must be revoked. */
export class MintFailed extends Error {
  readonly handles: MintedHandle[];
  constructor(cause: unknown, handles: MintedHandle[]) {
    super('minting failed', { cause });
    this.handles = handles;
  }
}

export interface MintDeps {
  vault: VaultAdapter;
  custody: TokenCustody;
  catalogue: ScopeCatalogue;
  /** Values for `{{dev_database.host}}`-style placeholders in a scope's connection facts. */
  connectionValues: Record<string, string | number>;
}

const at = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000);

/** Vault's database engine sets a login's VALID UNTIL this long after its lease ends. */
const VALID_UNTIL_MARGIN_SECONDS = 5;

/** The PostgreSQL login a database secret opened: the broker locks it out itself on revocation. */
function databaseLogin(data: Record<string, unknown>, target: string) {
  if (typeof data.username !== 'string') throw new Error('a database secret without a username');
  return { dbRole: data.username, dbTarget: target };
}

async function mintScope(
  deps: MintDeps,
  scope: string,
  grantToken: MintedToken,
  ttl: number,
  now: Date,
  handles: MintedHandle[],
): Promise<IssuedSecret> {
  const spec = deps.catalogue.get(scope)!;
  const connection = resolveConnectionFacts(spec.connection, deps.connectionValues);
  const extra = connection ? { connection } : {};
  switch (spec.vault.kind) {
    case 'dynamic': {
      const secret = await deps.vault.readDynamicSecret(grantToken.clientToken, spec.vault.path);
      const login = spec.vault.database_target ? databaseLogin(secret.data, spec.vault.database_target) : {};
      handles.push({ kind: 'lease', scope, leaseId: secret.leaseId, expiresAt: at(now, ttl), ...login });
      // The lease belongs to the grant token, so it dies with it however long Vault would keep it; and a
      // database login's VALID UNTIL never outlives the grant: renewing to the grant's TTL moves it (Vault
      // sets VALID UNTIL to the lease's end plus 5 s, hence the margin).
      const duration =
        secret.leaseDuration > ttl && spec.vault.database_target
          ? await deps.vault.renewLease(secret.leaseId, Math.max(1, ttl - VALID_UNTIL_MARGIN_SECONDS))
          : Math.min(secret.leaseDuration || ttl, ttl);
      return {
        scope,
        kind: 'dynamic',
        data: secret.data,
        lease_id: secret.leaseId,
        lease_duration: duration,
        ...extra,
      };
    }
    case 'kv': {
      const data = await deps.vault.readKv(grantToken.clientToken, spec.vault.path);
      return { scope, kind: 'kv', data, lease_id: null, lease_duration: null, ...extra };
    }
    case 'token': {
      const token = await deps.vault.createChildToken(grantToken.clientToken, {
        policies: spec.vault.policies,
        ttlSeconds: ttl,
        explicitMaxTtlSeconds: ttl,
        displayName: `grantline-scope`,
        meta: { grantline_scope: scope },
      });
      handles.push({ kind: 'scope_token', scope, accessor: token.accessor, expiresAt: at(now, ttl) });
      return {
        scope,
        kind: 'token',
        data: { token: token.clientToken, accessor: token.accessor },
        lease_id: null,
        lease_duration: ttl,
        ...extra,
      };
    }
  }
}

/**
 * Mints a grant in Vault: a child token of `parentToken` (the task's, or the parent grant's for a
 * delegation) carrying the scopes' policies, kept in custody when it may delegate, then each scope's
 * secret read WITH that token so every lease belongs to it. Throws MintFailed with what exists.
 */
export async function mintGrant(
  deps: MintDeps,
  q: {
    grantId: string;
    parentToken: string;
    scopes: string[];
    ttlSeconds: number;
    now: Date;
    keepInCustody: boolean;
    /**
     * Records the grant token the moment it exists, before its secrets are read (in parallel with them),
     * so a broker killed at any later point leaves no token it does not know about (the handle is then
     * marked `tracked`).
     */
    recordGrantToken(handle: MintedHandle): Promise<void>;
  },
): Promise<MintResult> {
  const handles: MintedHandle[] = [];
  let grantToken: MintedToken;
  try {
    grantToken = await deps.vault.createChildToken(q.parentToken, {
      policies: [...vaultPoliciesFor(deps.catalogue, q.scopes), CHILD_TOKEN_POLICY],
      ttlSeconds: q.ttlSeconds,
      explicitMaxTtlSeconds: q.ttlSeconds,
      displayName: `grantline-grant`,
      meta: { grantline_grant: q.grantId },
    });
  } catch (err) {
    throw new MintFailed(err, handles);
  }
  const tokenHandle: MintedHandle = {
    kind: 'grant_token',
    scope: null,
    accessor: grantToken.accessor,
    expiresAt: at(q.now, q.ttlSeconds),
  };
  handles.push(tokenHandle);
  try {
    const recorded = q.recordGrantToken(tokenHandle).then(() => {
      tokenHandle.tracked = true;
    });
    // A Vault write on the grant's hot path, so only for grants that may delegate (grantNeedsCustody).
    const custody = q.keepInCustody ? deps.custody.keep('grant', q.grantId, grantToken.clientToken) : null;
    const results = await Promise.allSettled([
      recorded,
      custody,
      ...q.scopes.map((s) => mintScope(deps, s, grantToken, q.ttlSeconds, q.now, handles)),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const secrets = results.slice(2).map((r) => (r as PromiseFulfilledResult<IssuedSecret>).value);
    return { grantToken, secrets, handles };
  } catch (err) {
    throw new MintFailed(err, handles);
  }
}
