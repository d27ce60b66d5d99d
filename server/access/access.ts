import type { AuditEventInput } from '../audit/audit.types';
import type { UnitOfWork } from '../db/unit-of-work';
import { type Actor, actorId, isHuman } from '../identity/human';
import type { Decision, PolicyEngine, PolicyPrincipal, PolicyRequest } from '../policy';
import { AccessDenied, type GrantlineError } from '../shared/errors';
import type { Metrics } from '../shared/metrics';
import { decisionEvent, type ResourceIds } from './decision-event';

export type DecisionRequest = Omit<PolicyRequest, 'principal'>;

/**
 * An allow decision not yet on the record. It can only be obtained from `authorize`, and the unit of work
 * that acts on it appends `event` with the state change (or, when a limit refuses, with the refusal).
 */
export interface Authorized {
  readonly decision: Decision;
  readonly event: AuditEventInput;
}

/** What one request asks: a single policy request, or one per scope folded into one decision. */
export type Question =
  | DecisionRequest
  | { summary: DecisionRequest; decide: (evaluate: (req: DecisionRequest) => Decision) => Decision };

export interface AuthorizeOptions {
  /** The error for a deny (default: 403 with the policy's reasons). E.g. 404 so ids do not leak. */
  deniedAs?: (decision: Decision) => GrantlineError;
  /** The ids a deny is recorded against, when they differ (a refused hop: the parent, not the new grant). */
  idsOnDeny?: ResourceIds;
}

export interface AccessDeps {
  uow: UnitOfWork<AuditEventInput>;
  policy: PolicyEngine;
  metrics: Metrics;
  /** The broker's own trust domain: path-based roles hold only for its workloads. */
  trustDomain: string;
}

/** The 403 of a policy deny: the reasons and the ids of the policies behind them. */
export function accessDenied(action: string, d: Decision): AccessDenied {
  return new AccessDenied(d.reasons.join('; ') || `no policy permits ${action}`, {
    reasons: d.reasons,
    policy_ids: d.policyIds,
    policy_version: d.policyVersion,
  });
}

/**
 * Authorise-and-audit as one call: every decision Grantline takes on a request is made here and goes on
 * the record here. A deny is appended in a unit of its own (nothing else changes) and thrown; an allow
 * comes back as `Authorized` for the unit of work that acts on it, or (for reads) is recorded at once.
 */
export function createAccess(deps: AccessDeps) {
  const toPolicyPrincipal = (p: Actor): PolicyPrincipal =>
    isHuman(p)
      ? { kind: 'human', issuer: p.issuer, subject: p.subject, roles: [...p.roles] }
      : {
          spiffeId: p.spiffeId,
          trustDomain: p.trustDomain,
          path: p.path,
          local: p.trustDomain === deps.trustDomain,
        };

  function evaluate(principal: Actor, req: DecisionRequest): Decision {
    const decision = deps.policy.authorize({ ...req, principal: toPolicyPrincipal(principal) });
    deps.metrics.decisions.inc({ action: req.action, decision: decision.allowed ? 'allow' : 'deny' });
    return decision;
  }

  function decide(principal: Actor, q: Question): { decision: Decision; summary: DecisionRequest } {
    if ('decide' in q) return { decision: q.decide((req) => evaluate(principal, req)), summary: q.summary };
    return { decision: evaluate(principal, q), summary: q };
  }

  const record = (events: AuditEventInput[]) => deps.uow.run({}, async (w) => w.audit(...events));

  async function authorize(
    principal: Actor,
    q: Question,
    ids: ResourceIds = {},
    opts: AuthorizeOptions = {},
  ): Promise<Authorized> {
    const { decision, summary } = decide(principal, q);
    const event = decisionEvent(actorId(principal), summary, decision, ids);
    if (!decision.allowed) {
      await record([
        opts.idsOnDeny ? decisionEvent(actorId(principal), summary, decision, opts.idsOnDeny) : event,
      ]);
      throw opts.deniedAs ? opts.deniedAs(decision) : accessDenied(summary.action, decision);
    }
    return { decision, event };
  }

  return {
    authorize,
    /** For reads: the decision, allow or deny, is on the record before anything is returned. */
    async authorizeRead(principal: Actor, q: Question, ids: ResourceIds = {}, opts: AuthorizeOptions = {}) {
      const allowed = await authorize(principal, q, ids, opts);
      await record([allowed.event]);
      return allowed.decision;
    },
    /** An allow acted on by nothing but a read: it goes on the record now. */
    recordAllowed: (allowed: Authorized) => record([allowed.event]),
    /** Policy allowed, then a limit (or a lost race) refused: both go on the record together. */
    recordRefusal: (allowed: Authorized | null, refusal: AuditEventInput) =>
      record(allowed ? [allowed.event, refusal] : [refusal]),
    /**
     * Whether policy would allow, without deciding anything for the request: to filter a list to what
     * the caller may see, or to choose between 403 and 404 for a refusal already on the record.
     */
    wouldAllow: (principal: Actor, req: DecisionRequest) => evaluate(principal, req).allowed,
  };
}

export type Access = ReturnType<typeof createAccess>;
