import type { GrantApi } from './grants';
import type { Grant } from './types';

/** The grant's work failed, and so did revoking the grant afterwards: both errors, the work's first. */
export class GrantCleanupError extends AggregateError {
  readonly code = 'grant_cleanup_failed';
  readonly grantId: string;
  constructor(grantId: string, workError: unknown, revokeError: unknown) {
    super([workError, revokeError], `the work with grant ${grantId} failed, and revoking it failed too`);
    this.name = 'GrantCleanupError';
    this.grantId = grantId;
  }
}

/**
 * Gets a grant, runs `fn` with it, and revokes it when `fn` ends, however it ends (returns, throws, or its
 * promise rejects). If `fn` succeeded but the revocation failed, the revocation error is thrown (the grant
 * may still be live until its TTL); if both failed, a GrantCleanupError carries both.
 */
export async function runWithGrant<T>(
  grants: GrantApi,
  acquire: () => Promise<Grant>,
  fn: (grant: Grant) => Promise<T> | T,
  reason = 'work finished (withGrant)',
): Promise<T> {
  const grant = await acquire();
  let result: T;
  try {
    result = await fn(grant);
  } catch (workError) {
    try {
      await grants.revoke(grant.grant_id, reason);
    } catch (revokeError) {
      throw new GrantCleanupError(grant.grant_id, workError, revokeError);
    }
    throw workError;
  }
  await grants.revoke(grant.grant_id, reason);
  return result;
}
