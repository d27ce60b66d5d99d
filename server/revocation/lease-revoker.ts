import type { LeaseRow, LeaseState } from '../db/database';
import { UpstreamError } from '../shared/errors';
import type { VaultAdapter } from '../vault';
import type { DatabaseTargets } from './database-lockout';

export type LeaseOutcome =
  | { state: Extract<LeaseState, 'revoked' | 'expired'>; verified: boolean; note?: string }
  | { state: 'error'; error: string; permanent: boolean };

export interface RevokerDeps {
  vault: VaultAdapter;
  /** Admin connections to the databases whose logins Vault mints; absent → Vault's word only. */
  targets?: DatabaseTargets | undefined;
}

/** A short, secret-free description for `last_error` (Vault's messages carry paths and ids, not values). */
export function describe(err: unknown): string {
  const e = err as { code?: unknown; kind?: unknown; message?: unknown };
  const code = typeof e?.kind === 'string' ? e.kind : typeof e?.code === 'string' ? e.code : '';
  const text = typeof e?.message === 'string' ? e.message : String(err);
  return `${code ? `${code}: ` : ''}${text}`.slice(0, 300);
}

/**
 * Vault understood the call and refused it (403, an unknown role, a malformed answer): retrying on the
 * timeout schedule will not change that, so it counts against a much shorter budget than "Vault is down".
 */
export const isPermanent = (err: unknown): boolean => err instanceof UpstreamError;

const failure = (err: unknown): LeaseOutcome => ({
  state: 'error',
  error: describe(err),
  permanent: isPermanent(err),
});

/**
 * A database login: locked out by the broker first (committed on its own, then its sessions ended), then
 * revoked in Vault, cleaned up (deferred, not failed, when the holder blocked DROP ROLE), and proved dead.
 */
async function revokeLogin(deps: RevokerDeps, lease: LeaseRow, leaseId: string): Promise<LeaseOutcome> {
  const targets = deps.targets!;
  const [target, role] = [lease.db_target!, lease.db_role!];
  await targets.lockOut(target, role);
  let vaultError: unknown;
  await deps.vault.revokeLease(leaseId).catch((err: unknown) => {
    vaultError = err;
  });
  const cleanup = await targets.cleanUp(target, role);
  const login = await targets.verifyDead(target, role);
  if (!login.dead)
    return {
      state: 'error',
      error: `login ${role} still usable (sessions: ${login.sessions})`,
      permanent: false,
    };
  if (vaultError) return failure(vaultError);
  if (await deps.vault.lookupLease(leaseId))
    return { state: 'error', error: 'lease still present after revoke', permanent: false };
  const note = typeof cleanup === 'object' ? `locked out; cleanup deferred: ${cleanup.deferred}` : undefined;
  return { state: 'revoked', verified: true, ...(note ? { note } : {}) };
}

/**
 * How the handle was left: `expired` past its own end, `cascaded` under a task token just revoked, and
 * `liveAccessors`, when given, every token accessor Vault listed after that cascade.
 */
interface Prior {
  alreadyExpired: boolean;
  cascaded: boolean;
  liveAccessors?: ReadonlySet<string> | undefined;
}

/** Already gone (proved by a lookup that no longer finds it): one Vault call instead of two. */
const goneAlready = (prior: Prior): LeaseOutcome => ({
  state: prior.alreadyExpired ? 'expired' : 'revoked',
  verified: true,
});

async function revokeLease(deps: RevokerDeps, lease: LeaseRow, prior: Prior): Promise<LeaseOutcome> {
  const leaseId = lease.vault_lease_id!;
  if (lease.db_role && lease.db_target && deps.targets?.has(lease.db_target))
    return revokeLogin(deps, lease, leaseId);
  if ((prior.alreadyExpired || prior.cascaded) && (await deps.vault.lookupLease(leaseId)) === null)
    return goneAlready(prior);
  await deps.vault.revokeLease(leaseId);
  const still = await deps.vault.lookupLease(leaseId);
  if (still)
    return {
      state: 'error',
      error: still.revokeError ?? 'lease still present after revoke',
      permanent: false,
    };
  return { state: 'revoked', verified: true };
}

async function revokeToken(deps: RevokerDeps, accessor: string, prior: Prior): Promise<LeaseOutcome> {
  // Absent from Vault's own accessor index (listed after the cascade): the token does not exist, the
  // same fact a lookup-accessor answering "invalid accessor" states, for one call instead of one each.
  // A listed one is alive: straight to the explicit revoke.
  if (prior.liveAccessors) {
    if (!prior.liveAccessors.has(accessor)) return goneAlready(prior);
  } else if (
    (prior.alreadyExpired || prior.cascaded) &&
    (await deps.vault.lookupTokenByAccessor(accessor)) === null
  )
    return goneAlready(prior);
  await deps.vault.revokeTokenByAccessor(accessor);
  if (await deps.vault.lookupTokenByAccessor(accessor))
    return { state: 'error', error: 'token still present after revoke', permanent: false };
  return { state: 'revoked', verified: true };
}

/**
 * Revokes one tracked handle and proves it gone (a lookup that no longer finds it; for a database login,
 * no login and no session), so a revocation never rests on the token-tree cascade unverified. After the
 * task token's cascade (`cascaded`) the lookup comes first, and a handle it no longer finds is proved
 * gone without a second call; one it still finds is revoked explicitly and looked up again. With
 * `liveAccessors` (Vault's accessor list taken after the cascade) a token absent from it needs no call.
 */
export async function revokeAndVerify(
  deps: RevokerDeps,
  lease: LeaseRow,
  now: Date,
  opts: { cascaded?: boolean; liveAccessors?: ReadonlySet<string> | undefined } = {},
): Promise<LeaseOutcome> {
  try {
    const prior = {
      alreadyExpired: lease.expires_at !== null && lease.expires_at.getTime() <= now.getTime(),
      cascaded: opts.cascaded === true,
      liveAccessors: opts.liveAccessors,
    };
    if (lease.vault_lease_id) return await revokeLease(deps, lease, prior);
    return await revokeToken(deps, lease.vault_token_accessor!, prior);
  } catch (err) {
    return failure(err);
  }
}
