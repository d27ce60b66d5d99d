import type { LeaseRow, LeaseState } from '../db/database';
import type { VaultAdapter } from '../vault';

export type LeaseOutcome =
  | { state: Extract<LeaseState, 'revoked' | 'expired'> }
  | { state: 'error'; error: string };

/**
 * Revokes one tracked Vault handle explicitly and confirms it is gone with a lookup, so a revocation
 * never rests on the token-tree cascade alone (DESIGN: "never depends on one mechanism").
 */
export async function revokeAndConfirm(
  vault: VaultAdapter,
  lease: LeaseRow,
  now: Date,
): Promise<LeaseOutcome> {
  try {
    const alreadyExpired = lease.expires_at !== null && lease.expires_at.getTime() <= now.getTime();
    if (lease.vault_lease_id) {
      if (alreadyExpired && (await vault.lookupLease(lease.vault_lease_id)) === null)
        return { state: 'expired' };
      await vault.revokeLease(lease.vault_lease_id);
      const still = await vault.lookupLease(lease.vault_lease_id);
      if (still) return { state: 'error', error: still.revokeError ?? 'lease still present after revoke' };
      return { state: 'revoked' };
    }
    const accessor = lease.vault_token_accessor!;
    if (alreadyExpired && (await vault.lookupTokenByAccessor(accessor)) === null) return { state: 'expired' };
    await vault.revokeTokenByAccessor(accessor);
    if (await vault.lookupTokenByAccessor(accessor))
      return { state: 'error', error: 'token still present after revoke' };
    return { state: 'revoked' };
  } catch (err) {
    return { state: 'error', error: describe(err) };
  }
}

/** A short, secret-free description for `last_error` (Vault's messages carry paths and ids, not values). */
export function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' ? e.message : String(err);
  return `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${text}`.slice(0, 300);
}
