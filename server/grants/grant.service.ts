import { randomUUID } from 'node:crypto';
import type { ScopeCatalogue, ScopeSpec } from '../config/scope-catalogue';
import type { ApprovalRow, Db } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { Decision, DecisionContext, ScopeFacts } from '../policy';
import { revokeGrantSubtreeInTx } from '../revocation/revoke-in-tx';
import type { Clock } from '../shared/clock';
import { parseDurationSeconds } from '../shared/duration';
import { InvalidRequest } from '../shared/errors';
import type { AccessControl, DecisionRequest } from '../tasks/access';
import { TaskNotFound, TaskNotOpen } from '../tasks/task.errors';
import { findLiveApproval, findTask } from '../tasks/task.repository';
import { taskFacts } from '../tasks/task.service';
import { GrantNotFound, UnknownScope } from './grant.errors';
import { findGrant } from './grant.repository';
import type { RequestGrantInput } from './grant.schema';
import type { GrantPlan, IssueGrant } from './grant-issuer';
import { reserveTaskQuota } from './quota';

export interface GrantServiceDeps {
  db: Db;
  access: AccessControl;
  catalogue: ScopeCatalogue;
  issueGrant: IssueGrant;
  clock: Clock;
  ttl: { defaultSeconds: number; maxSeconds: number };
  onRevocationQueued: () => void;
}

export const scopeFacts = (name: string, spec: ScopeSpec): ScopeFacts => ({
  name,
  cost: spec.cost,
  sensitivity: spec.sensitivity,
  privileged: spec.privileged,
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

/** The live human approval for each privileged scope among `scopes` (none for the others). */
export async function liveApprovals(
  deps: { db: Db; catalogue: ScopeCatalogue },
  q: { taskId: string; scopes: string[]; now: Date; argsDigest?: string | undefined },
): Promise<Map<string, ApprovalRow>> {
  const found = new Map<string, ApprovalRow>();
  for (const scope of q.scopes) {
    if (!deps.catalogue.get(scope)?.privileged) continue;
    const approval = await findLiveApproval(deps.db, {
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
 * Scopes only narrow (DESIGN): a grant ⊆ the task's ceiling is enforced here too, not only by the
 * shipped policy, so a broad operator policy cannot widen a task. Turns an allow into an audited deny.
 */
export function withinCeiling(decision: Decision, scopes: string[], ceiling: string[]): Decision {
  const outside = scopes.filter((s) => !ceiling.includes(s));
  if (!decision.allowed || outside.length === 0) return decision;
  return { ...decision, allowed: false, reasons: [`outside the task's ceiling: ${outside.join(', ')}`] };
}

/** The TTL of a new grant: asked (or the default), never above the configured cap or the task's life. */
export function grantTtl(
  requested: number | string | undefined,
  limits: { defaultSeconds: number; maxSeconds: number },
  remainingSeconds: number,
): number {
  const asked = requested === undefined ? limits.defaultSeconds : parseDurationSeconds(requested);
  if (asked === undefined || asked < 1)
    throw new InvalidRequest('ttl must be a positive duration such as 300 or "5m"');
  return Math.min(asked, limits.maxSeconds, remainingSeconds);
}

export function createGrantService(deps: GrantServiceDeps) {
  const now = () => deps.clock.now();

  /** A grant requested directly on a task by an agent listed on it. */
  async function request(principal: Principal, taskId: string, input: RequestGrantInput) {
    const task = await findTask(deps.db, taskId);
    if (!task) throw new TaskNotFound();
    const scopes = [...new Set(input.scopes)].sort();
    const unknown = scopes.filter((s) => !deps.catalogue.has(s));
    if (unknown.length) throw new UnknownScope(unknown);
    // Only agents listed on the task learn its state; anyone else gets the policy's 403.
    const listed = task.agents.includes(principal.spiffeId);
    if (listed && task.status !== 'open') throw new TaskNotOpen(task.status);
    const remaining = Math.max(1, Math.floor((task.expires_at.getTime() - now().getTime()) / 1000));
    if (listed && task.expires_at.getTime() <= now().getTime()) throw new TaskNotOpen('expired');
    const ttlSeconds = grantTtl(input.ttl, deps.ttl, remaining);
    const approvals = await liveApprovals(deps, {
      taskId: task.id,
      scopes,
      now: now(),
      argsDigest: input.context.args_digest,
    });
    const facts = taskFacts(task);
    const requests: Array<{ scope: string; req: DecisionRequest }> = scopes.map((scope) => {
      const approval = approvals.get(scope);
      const context: DecisionContext = {
        ...(input.context.tool ? { tool: input.context.tool } : {}),
        ...(input.context.target ? { target: input.context.target } : {}),
        ...(input.context.intent ? { intent: input.context.intent } : {}),
        requestedTtl: ttlSeconds,
        approval: approval ? { live: true, approver: approval.approver, id: approval.id } : { live: false },
        delegation: { depth: 0, chain: [] },
      };
      return {
        scope,
        req: {
          action: 'RequestGrant',
          task: facts,
          scope: scopeFacts(scope, deps.catalogue.get(scope)!),
          context,
        },
      };
    });
    const decision = withinCeiling(
      foldDecisions(
        requests.map(({ scope, req }) => ({ scope, decision: deps.access.evaluate(principal, req) })),
      ),
      scopes,
      task.scopes,
    );
    const summary: DecisionRequest = {
      action: 'RequestGrant',
      task: facts,
      context: { ...requests[0]!.req.context, approval: { live: approvals.size > 0 } },
    };
    const grantId = randomUUID();
    if (!decision.allowed)
      await deps.access.refuse(principal, { ...summary, scope: undefined }, decision, {
        taskId: task.id,
        grantId,
      });
    const cost = scopes.reduce((sum, s) => sum + deps.catalogue.get(s)!.cost, 0);
    const plan: GrantPlan = {
      grantId,
      task,
      parent: null,
      offerId: null,
      holder: principal.spiffeId,
      chain: [principal.spiffeId],
      scopes,
      audience: input.audience,
      ttlSeconds,
      cost,
      budgetReserved: null,
      mayRedelegate: true,
      policyIds: decision.policyIds,
      policyVersion: decision.policyVersion,
      approvals: [...approvals.values()],
      certThumbprint: principal.certThumbprint,
      constraints: {
        scopes,
        ttl: ttlSeconds,
        cost,
        depth: 0,
        audience: input.audience,
        ...(input.context.tool ? { tool: input.context.tool } : {}),
        ...(input.context.target ? { target: input.context.target } : {}),
      },
      reserve: async (tx) => {
        await reserveTaskQuota(tx, { taskId: task.id, cost, now: now(), drawBudget: true });
      },
      decisionEvent: deps.access.decisionEvent(principal, { ...summary, scope: undefined }, decision, {
        taskId: task.id,
        grantId,
      }),
    };
    return deps.issueGrant(plan);
  }

  /**
   * Revokes a grant and its whole subtree: by its holder, the holder of an ancestor, or the task's owner
   * (the policy decides). Revoking an already revoked grant changes nothing and says so.
   */
  async function revoke(principal: Principal, grantId: string, reason: string) {
    const grant = await findGrant(deps.db, grantId);
    if (!grant) throw new GrantNotFound();
    const task = (await findTask(deps.db, grant.task_id))!;
    const req: DecisionRequest = {
      action: 'RevokeGrant',
      task: taskFacts(task),
      context: { holder: grant.holder, delegation: { depth: grant.depth, chain: grant.chain } },
    };
    const decision = deps.access.evaluate(principal, req);
    if (!decision.allowed) {
      await deps.access.record(principal, req, decision, { taskId: task.id, grantId });
      throw new GrantNotFound();
    }
    const revoked = await deps.db.transaction().execute(async (tx) => {
      const done = await revokeGrantSubtreeInTx(tx, {
        taskId: task.id,
        grantId,
        reason,
        now: now(),
        principal: principal.spiffeId,
      });
      // Audit last (db/locks.ts): never hold the audit head while waiting for task or grant rows.
      await deps.access.auditDecision(tx, principal, req, decision, { taskId: task.id, grantId });
      return done;
    });
    if (revoked.length) deps.onRevocationQueued();
    const current = await findGrant(deps.db, grantId);
    return { grant_id: grantId, status: current!.status, revoked: revoked.map((g) => g.id) };
  }

  return { request, revoke };
}

export type GrantService = ReturnType<typeof createGrantService>;
