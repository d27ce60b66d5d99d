import type { ApprovalRow, TaskRow } from '../db/database';

/** The task as the API shows it: explicit fields, never the raw row. */
export function taskView(t: TaskRow, now: Date) {
  return {
    id: t.id,
    status: t.status,
    purpose: t.purpose,
    owner: t.owner,
    agents: t.agents,
    delegates: t.delegates,
    scopes: t.scopes,
    audiences: t.audiences,
    ttl: t.ttl_seconds,
    context: t.context,
    limits: {
      max_grants: t.max_grants,
      max_active: t.max_active,
      max_depth: t.max_depth,
      max_fanout: t.max_fanout,
      budget: t.budget,
      max_actions: t.max_actions,
    },
    counters: {
      grants_issued: t.grants_issued,
      active_grants: t.active_grants,
      budget_spent: t.budget_spent,
      budget_remaining: t.budget - t.budget_spent,
      actions_spent: t.actions_spent,
      actions_remaining: t.max_actions === null ? null : t.max_actions - t.actions_spent,
    },
    policy_version: t.policy_version,
    created_at: t.created_at.toISOString(),
    expires_at: t.expires_at.toISOString(),
    expires_in: Math.max(0, Math.floor((t.expires_at.getTime() - now.getTime()) / 1000)),
    closing_at: t.closing_at?.toISOString() ?? null,
    closed_at: t.closed_at?.toISOString() ?? null,
    close_reason: t.close_reason,
  };
}
export type TaskView = ReturnType<typeof taskView>;

export function approvalView(a: ApprovalRow) {
  return {
    id: a.id,
    task_id: a.task_id,
    scope: a.scope,
    approver: a.approver,
    note: a.note,
    recorded_by: a.recorded_by,
    approver_kind: a.approver_kind,
    approver_issuer: a.approver_issuer,
    approver_subject: a.approver_subject,
    approval_request_id: a.approval_request_id,
    single_use: a.single_use,
    args_digest: a.args_digest,
    created_at: a.created_at.toISOString(),
    expires_at: a.expires_at.toISOString(),
    used_at: a.used_at?.toISOString() ?? null,
    used_by_grant: a.used_by_grant,
  };
}
