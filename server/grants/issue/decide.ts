import type { Access, Authorized, DecisionRequest } from '../../access/access';
import type { ScopeCatalogue, ScopeSpec } from '../../config/scope-catalogue';
import type { ApprovalRow, Db, TaskRow } from '../../db/database';
import type { Principal } from '../../identity/identity.types';
import type { Decision, DecisionContext, ScopeFacts } from '../../policy';
import { liveApprovals, taskFacts } from '../../tasks';

export const scopeFacts = (name: string, spec: ScopeSpec): ScopeFacts => ({
  name,
  cost: spec.cost,
  sensitivity: spec.sensitivity,
  privileged: spec.privileged,
  audiences: spec.audiences,
});

/** One decision per scope, folded: allowed only if every scope is; the ids of every deciding policy. */
export function foldDecisions(decisions: Array<{ scope: string; decision: Decision }>): Decision {
  if (decisions.length === 0)
    throw new Error('foldDecisions needs at least one decision: an empty scope set is never allowed');
  const allowed = decisions.every((d) => d.decision.allowed);
  const relevant = decisions.filter((d) => d.decision.allowed === allowed);
  const shadows = decisions
    .map((d) => d.decision.shadow)
    .filter((s): s is NonNullable<Decision['shadow']> => s !== null);
  return {
    allowed,
    policyIds: [...new Set(relevant.flatMap((d) => d.decision.policyIds))].sort(),
    errors: decisions.flatMap((d) => d.decision.errors),
    policyVersion: decisions[0]!.decision.policyVersion,
    reasons: allowed ? [] : relevant.flatMap((d) => d.decision.reasons.map((r) => `${d.scope}: ${r}`)),
    shadow: shadows.length
      ? {
          allowed: shadows.every((s) => s.allowed),
          policyIds: [...new Set(shadows.flatMap((s) => s.policyIds))].sort(),
        }
      : null,
  };
}

/**
 * Scopes only narrow (DESIGN): a grant ⊆ the task's ceiling is enforced here too, not only by the
 * shipped policy, so a broad operator policy cannot widen a task. Turns an allow into an audited deny.
 */
export function withinCeiling(decision: Decision, scopes: string[], ceiling: string[]): Decision {
  const outside = scopes.filter((s) => !ceiling.includes(s));
  if (!decision.allowed || outside.length === 0) return decision;
  return { ...decision, allowed: false, reasons: [`outside the task's ceiling: ${outside.join(', ')}`] };
}

export interface GrantQuestion {
  action: 'RequestGrant' | 'DelegateGrant' | 'RedeemGrant' | 'RequestApproval';
  task: TaskRow;
  scopes: string[];
  /** The token's audiences: policy decides each scope at each of them (`context.audience`). */
  audiences: string[];
  /** Facts of the request itself (tool, target, intent, TTL, the delegation hop). */
  context: Omit<DecisionContext, 'approval' | 'audience'>;
  argsDigest?: string | undefined;
  /** Only approvals given in answer to this approval request count (the agent came back with it). */
  approvalRequestId?: string | undefined;
  /** The grant an allow is recorded against (the one to be created, or the parent of an offer). */
  grantId?: string | undefined;
  /** The grant a deny is recorded against when it differs (a refused redemption: the parent). */
  deniedGrantId?: string;
}

/**
 * Policy for a grant or a hop: one decision per scope with the live approval of each privileged scope
 * (at every hop: consent to run a task is not consent to use a privileged tool), folded, and capped by
 * the task's ceiling. The decision goes on the record through `access` (a deny at once, as 403).
 */
export async function decideGrant(
  deps: { db: Db; access: Access; catalogue: ScopeCatalogue; now: () => Date },
  principal: Principal,
  q: GrantQuestion,
): Promise<{ allowed: Authorized; approvals: ApprovalRow[]; argsDigest: string | null }> {
  const approvals = await liveApprovals(deps.db, deps.catalogue, {
    taskId: q.task.id,
    scopes: q.scopes,
    now: deps.now(),
    argsDigest: q.argsDigest,
    requestId: q.approvalRequestId,
  });
  const facts = taskFacts(q.task);
  const contextFor = (scope?: string, audience?: string): DecisionContext => {
    const a = scope ? approvals.get(scope) : undefined;
    return {
      ...q.context,
      ...(audience === undefined ? {} : { audience }),
      approval: a ? { live: true, approver: a.approver, id: a.id } : { live: false },
    };
  };
  const single = q.audiences.length === 1 ? q.audiences[0] : undefined;
  const summary: DecisionRequest = {
    action: q.action,
    task: facts,
    context: { ...contextFor(undefined, single), approval: { live: approvals.size > 0 } },
  };
  // A token for several resources is allowed only if it would be for each of them alone: a policy that
  // forbids one audience cannot be stepped around by asking for it together with another.
  const pairs = q.scopes.flatMap((scope) => q.audiences.map((audience) => ({ scope, audience })));
  const label = (p: { scope: string; audience: string }) =>
    q.audiences.length === 1 ? p.scope : `${p.scope} at ${p.audience}`;
  const allowed = await deps.access.authorize(
    principal,
    {
      summary,
      decide: (evaluate) =>
        withinCeiling(
          foldDecisions(
            pairs.map((p) => ({
              scope: label(p),
              decision: evaluate({
                action: q.action,
                task: facts,
                scope: scopeFacts(p.scope, deps.catalogue.get(p.scope)!),
                context: contextFor(p.scope, p.audience),
              }),
            })),
          ),
          q.scopes,
          q.task.scopes,
        ),
    },
    { taskId: q.task.id, ...(q.grantId ? { grantId: q.grantId } : {}) },
    q.deniedGrantId ? { idsOnDeny: { taskId: q.task.id, grantId: q.deniedGrantId } } : {},
  );
  const found = [...approvals.values()];
  return { allowed, approvals: found, argsDigest: boundDigest(found, q.argsDigest) };
}

/**
 * The digest a grant is bound to: the one its digest-bound approvals cover (each matched the digest the
 * request presented, see findLiveApproval), or null when none of its approvals covers exact arguments.
 */
function boundDigest(approvals: ApprovalRow[], presented: string | undefined): string | null {
  return approvals.some((a) => a.args_digest !== null) ? (presented ?? null) : null;
}
