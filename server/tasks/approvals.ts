import { type RawBuilder, sql } from 'kysely';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { ApprovalRow, DbOrTx } from '../db/database';
import { type Cte, refuseUnless, rowsOf } from '../db/one-statement';
import { consumeApprovalsStep, findLiveApproval, releaseApprovalsOf } from './approval.repository';

/** The refusal a grant's reservation is undone with when one of its single-use approvals was used first. */
export const SINGLE_USE_TAKEN = 'single-use approval taken';

/** The live approval for each privileged scope among `scopes` (none for the others). */
export async function liveApprovals(
  db: DbOrTx,
  catalogue: ScopeCatalogue,
  q: { taskId: string; scopes: string[]; now: Date; argsDigest?: string | undefined },
): Promise<Map<string, ApprovalRow>> {
  const found = new Map<string, ApprovalRow>();
  for (const scope of q.scopes) {
    if (!catalogue.get(scope)?.privileged) continue;
    const approval = await findLiveApproval(db, {
      taskId: q.taskId,
      scope,
      now: q.now,
      ...(q.argsDigest ? { argsDigest: q.argsDigest } : {}),
    });
    if (approval) found.set(scope, approval);
  }
  return found;
}

/**
 * Steps of a grant's reservation consuming the single-use approvals it rests on (when `when` holds): if
 * another request used one first, the whole reservation is undone (refusal SINGLE_USE_TAKEN, a 403).
 */
export function consumeSingleUseSteps(
  q: { approvals: ApprovalRow[]; grantId: string; now: Date },
  when: RawBuilder<boolean>,
): Cte[] {
  const ids = q.approvals.filter((a) => a.single_use).map((a) => a.id);
  if (ids.length === 0) return [];
  const allUsed = sql<boolean>`(not (${when}) or ${rowsOf('approvals_used')} = ${ids.length})`;
  return [
    consumeApprovalsStep({ ids, grantId: q.grantId, now: q.now }, when),
    refuseUnless('approvals_check', allUsed, SINGLE_USE_TAKEN),
  ];
}

export { releaseApprovalsOf };
