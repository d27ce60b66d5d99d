import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { ApprovalRow, DbOrTx, Tx } from '../db/database';
import { AccessDenied } from '../shared/errors';
import { consumeApproval, findLiveApproval, releaseApprovalsOf } from './approval.repository';

/** The live approval for each privileged scope among `scopes` (none for the others). */
export async function liveApprovals(
  db: DbOrTx,
  catalogue: ScopeCatalogue,
  q: {
    taskId: string;
    scopes: string[];
    now: Date;
    argsDigest?: string | undefined;
    /** Only approvals given in answer to this approval request. */
    requestId?: string | undefined;
  },
): Promise<Map<string, ApprovalRow>> {
  const found = new Map<string, ApprovalRow>();
  for (const scope of q.scopes) {
    if (!catalogue.get(scope)?.privileged) continue;
    const approval = await findLiveApproval(db, {
      taskId: q.taskId,
      scope,
      now: q.now,
      ...(q.argsDigest ? { argsDigest: q.argsDigest } : {}),
      ...(q.requestId ? { requestId: q.requestId } : {}),
    });
    if (approval) found.set(scope, approval);
  }
  return found;
}

/** Consumes the single-use approvals a grant rests on; 403 when another request used one first. */
export async function consumeSingleUse(
  tx: Tx,
  q: { approvals: ApprovalRow[]; grantId: string; now: Date },
): Promise<void> {
  for (const a of q.approvals.filter((x) => x.single_use)) {
    if (!(await consumeApproval(tx, a.id, q.grantId, q.now)))
      throw new AccessDenied(`the single-use approval for ${a.scope} was already used`);
  }
}

export { releaseApprovalsOf };

/** The privileged scopes among `scopes` that have no live approval in `live`. */
export function privilegedWithout(
  catalogue: ScopeCatalogue,
  scopes: string[],
  live: Map<string, ApprovalRow>,
): string[] {
  return scopes.filter((s) => catalogue.get(s)?.privileged && !live.has(s));
}
