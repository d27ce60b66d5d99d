import type { AuditEventInput } from '../audit/audit.types';
import type { Decision, PolicyRequest } from '../policy';

export interface ResourceIds {
  taskId?: string;
  grantId?: string;
}

/** The audit payload of a decision: enough for an auditor to see what decided it and why. */
export function decisionPayload(req: Omit<PolicyRequest, 'principal'>, d: Decision): Record<string, unknown> {
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

export function decisionEvent(
  principal: string,
  req: Omit<PolicyRequest, 'principal'>,
  d: Decision,
  ids: ResourceIds,
): AuditEventInput {
  return {
    type: d.allowed ? 'decision.allow' : 'decision.deny',
    taskId: ids.taskId ?? req.task?.id ?? null,
    grantId: ids.grantId ?? null,
    principal,
    payload: decisionPayload(req, d),
  };
}
