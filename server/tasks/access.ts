import { appendAuditEvent } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit.types';
import type { Db, Tx } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { Decision, PolicyEngine, PolicyRequest } from '../policy';
import type { Clock } from '../shared/clock';
import { AccessDenied } from '../shared/errors';
import type { Metrics } from '../shared/metrics';

export interface AccessDeps {
  db: Db;
  /** The broker's own trust domain. */
  trustDomain: string;
  policy: PolicyEngine;
  clock: Clock;
  metrics: Metrics;
}

export type DecisionRequest = Omit<PolicyRequest, 'principal'>;

/** The audit payload of a decision: enough for an auditor to see what decided it and why. */
export function decisionPayload(req: DecisionRequest, d: Decision): Record<string, unknown> {
  return {
    action: req.action,
    decision: d.allowed ? 'allow' : 'deny',
    policy_ids: d.policyIds,
    policy_version: d.policyVersion,
    reasons: d.reasons,
    ...(req.scope ? { scope: req.scope.name } : {}),
    ...(req.context?.tool ? { tool: req.context.tool } : {}),
    ...(req.context?.target ? { target: req.context.target } : {}),
    ...(req.context?.delegation ? { depth: req.context.delegation.depth } : {}),
    ...(d.shadow
      ? { shadow: { decision: d.shadow.allowed ? 'allow' : 'deny', policy_ids: d.shadow.policyIds } }
      : {}),
  };
}

/**
 * Authorisation happens once per request through the policy engine. A deny is audited in its own
 * transaction (nothing else changes) and thrown as 403 with the policy's reasons; an allow is returned
 * so the caller can audit it inside the transaction that acts on it.
 */
export function createAccessControl(deps: AccessDeps) {
  const toPolicyPrincipal = (p: Principal) => ({
    spiffeId: p.spiffeId,
    trustDomain: p.trustDomain,
    path: p.path,
    local: p.trustDomain === deps.trustDomain,
  });

  function evaluate(principal: Principal, req: DecisionRequest): Decision {
    const decision = deps.policy.authorize({ ...req, principal: toPolicyPrincipal(principal) });
    deps.metrics.decisions.inc({ action: req.action, decision: decision.allowed ? 'allow' : 'deny' });
    return decision;
  }

  /** The audit event of a decision, for callers that append it together with others in one statement. */
  function decisionEvent(
    principal: Principal,
    req: DecisionRequest,
    d: Decision,
    ids: { taskId?: string; grantId?: string } = {},
  ): AuditEventInput {
    return {
      type: d.allowed ? 'decision.allow' : 'decision.deny',
      taskId: ids.taskId ?? req.task?.id ?? null,
      grantId: ids.grantId ?? null,
      principal: principal.spiffeId,
      payload: decisionPayload(req, d),
    };
  }

  async function auditDecision(
    tx: Tx,
    principal: Principal,
    req: DecisionRequest,
    d: Decision,
    ids: { taskId?: string; grantId?: string } = {},
  ) {
    await appendAuditEvent(tx, decisionEvent(principal, req, d, ids), deps.clock);
  }

  /** Audits a decision in a transaction of its own (reads, and denies where nothing else changes). */
  async function record(
    principal: Principal,
    req: DecisionRequest,
    d: Decision,
    ids: { taskId?: string; grantId?: string } = {},
  ) {
    await deps.db.transaction().execute((tx) => auditDecision(tx, principal, req, d, ids));
  }

  /** Audits the deny and throws 403 with the reasons and the policy ids behind them. */
  async function refuse(
    principal: Principal,
    req: DecisionRequest,
    d: Decision,
    ids: { taskId?: string; grantId?: string } = {},
  ): Promise<never> {
    await record(principal, req, d, ids);
    throw new AccessDenied(d.reasons.join('; ') || `no policy permits ${req.action}`, {
      reasons: d.reasons,
      policy_ids: d.policyIds,
      policy_version: d.policyVersion,
    });
  }

  /** Evaluates and, on deny, audits and throws; on allow returns the decision for in-transaction audit. */
  async function require(
    principal: Principal,
    req: DecisionRequest,
    ids: { taskId?: string; grantId?: string } = {},
  ): Promise<Decision> {
    const decision = evaluate(principal, req);
    if (!decision.allowed) await refuse(principal, req, decision, ids);
    return decision;
  }

  return { evaluate, require, refuse, record, auditDecision, decisionEvent };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
