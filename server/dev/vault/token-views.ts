import type { TokenEntry } from './token-store';
import { remainingSeconds } from './ttl-math';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The `auth` object of token create/renew responses (spec §1.1). */
export function tokenAuth(
  entry: TokenEntry,
  clientToken: string,
  leaseDuration: number,
): Record<string, unknown> {
  return {
    client_token: clientToken,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: entry.meta,
    lease_duration: leaseDuration,
    renewable: entry.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: entry.parentId === null,
    mfa_requirement: null,
    num_uses: entry.numUses,
  };
}

/** The `data` of token lookups (spec §2.2); lookups by accessor hide the id. */
export function tokenLookupData(entry: TokenEntry, nowMs: number, showId: boolean): Record<string, unknown> {
  const data: Record<string, unknown> = {
    accessor: entry.accessor,
    creation_time: Math.floor(entry.creationMs / 1000),
    creation_ttl: entry.creationTtl,
    display_name: entry.displayName,
    entity_id: '',
    expire_time: entry.expireAtMs === null ? null : iso(entry.expireAtMs),
    explicit_max_ttl: entry.explicitMaxTtl,
    id: showId ? entry.id : '',
    issue_time: iso(entry.creationMs),
    meta: entry.meta,
    num_uses: entry.numUses,
    orphan: entry.parentId === null,
    path: entry.path,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: entry.expireAtMs === null ? 0 : remainingSeconds(entry.expireAtMs, nowMs),
    type: 'service',
  };
  if (entry.lastRenewalMs !== null) {
    data.last_renewal = iso(entry.lastRenewalMs);
    data.last_renewal_time = Math.floor(entry.lastRenewalMs / 1000);
  }
  return data;
}
