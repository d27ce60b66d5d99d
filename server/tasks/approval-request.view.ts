import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { ApprovalRequestRow, ApprovalRow, TaskRow } from '../db/database';

/** Where the agent (and approvers) wait for the decision: a long poll of up to 30 seconds. */
export const pollPath = (id: string): string => `/v1/approval-requests/${id}?wait=30s`;

/** A pending request past its expiry reads as expired before the sweeper has marked it. */
export function effectiveStatus(r: ApprovalRequestRow, now: Date): ApprovalRequestRow['status'] {
  return r.status === 'pending' && r.expires_at.getTime() <= now.getTime() ? 'expired' : r.status;
}

/**
 * What the approver weighs, frozen when the agent asked: the task's declared risk and the catalogue's
 * facts about each scope (its sensitivity, cost and description), not what they may say later.
 */
export function riskContext(task: TaskRow, scopes: string[], catalogue: ScopeCatalogue) {
  const ctx = task.context as { task_type?: string; data_sensitivity?: string; risk_score?: number };
  return {
    task_type: ctx.task_type ?? 'general',
    data_sensitivity: ctx.data_sensitivity ?? 'medium',
    risk_score: ctx.risk_score ?? 0,
    scopes: scopes.map((name) => {
      const spec = catalogue.get(name);
      return {
        name,
        sensitivity: spec?.sensitivity ?? 'high',
        cost: spec?.cost ?? 0,
        privileged: spec?.privileged ?? true,
        ...(spec?.description ? { description: spec.description } : {}),
      };
    }),
  };
}

/** The approval request as the API and the console show it: explicit fields, never the raw row. */
export function approvalRequestView(
  r: ApprovalRequestRow,
  extra: { task: TaskRow | undefined; approvals: ApprovalRow[]; now: Date },
) {
  return {
    id: r.id,
    status: effectiveStatus(r, extra.now),
    poll: pollPath(r.id),
    task: extra.task
      ? { id: extra.task.id, purpose: extra.task.purpose, owner: extra.task.owner, status: extra.task.status }
      : { id: r.task_id },
    agent: r.requester,
    scopes: r.scopes,
    audience: r.audience,
    tool: r.tool,
    target: r.target,
    intent: r.intent,
    args_digest: r.args_digest,
    args_preview: r.args_preview,
    risk: r.risk,
    policy_ids: r.policy_ids,
    policy_version: r.policy_version,
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
    decision: r.decided_at
      ? {
          outcome: r.status,
          by: {
            kind: r.decided_by_kind,
            issuer: r.decided_by_issuer,
            subject: r.decided_by_subject,
            name: r.decided_by_name,
          },
          reason: r.decision_reason,
          at: r.decided_at.toISOString(),
        }
      : null,
    approvals: extra.approvals.map((a) => ({
      id: a.id,
      scope: a.scope,
      single_use: a.single_use,
      expires_at: a.expires_at.toISOString(),
      used_at: a.used_at?.toISOString() ?? null,
      used_by_grant: a.used_by_grant,
    })),
  };
}
export type ApprovalRequestView = ReturnType<typeof approvalRequestView>;
