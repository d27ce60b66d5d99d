/** The shapes of the broker's answers the console draws (a subset of each; see README "HTTP API"). */

export type Role = 'auditor' | 'approver';

export interface SessionInfo {
  name: string;
  issuer: string;
  subject: string;
  roles: Role[];
  csrf_token: string;
  expires_at: string;
}

export interface Task {
  id: string;
  status: 'open' | 'closing' | 'closed' | 'expired';
  purpose: string;
  owner: string;
  agents: string[];
  scopes: string[];
  context: { task_type?: string; data_sensitivity?: string; risk_score?: number };
  limits: { max_grants: number; max_active: number; max_depth: number; max_fanout: number; budget: number };
  counters: { grants_issued: number; active_grants: number; budget_spent: number; budget_remaining: number };
  policy_version: string | null;
  created_at: string;
  expires_at: string;
  closing_at: string | null;
  closed_at: string | null;
  close_reason: string | null;
}

export interface LeaseInfo {
  kind: string;
  scope: string | null;
  state: string;
  lease_id: string | null;
  token_accessor: string | null;
}

export interface LineageNode {
  grant_id: string;
  parent_id: string | null;
  holder: string;
  scopes: string[];
  status: string;
  depth: number;
  ttl: number;
  cost: number;
  budget: { reserved: number | null; spent: number };
  may_redelegate: boolean;
  constraints: Record<string, unknown>;
  policy_ids: string[];
  policy_version: string;
  approval: {
    id: string;
    approver: string;
    approver_kind: string | null;
    approver_issuer: string | null;
    approver_subject: string | null;
    approval_request_id: string | null;
    scope: string;
    expires_at: string;
    args_digest: string | null;
  } | null;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  leases: LeaseInfo[];
  children: LineageNode[];
}

export interface Lineage {
  task: Task;
  grants: LineageNode[];
}

export interface ReceiptLease extends LeaseInfo {
  attempts: number;
  last_error: string | null;
  revoked_at: string | null;
}

export interface Receipt {
  task_id: string;
  status: Task['status'];
  complete: boolean;
  close_reason: string | null;
  closing_at: string | null;
  closed_at: string | null;
  summary: { grants: number; leases: number; lease_states: Record<string, number>; pending_jobs: number };
  task_token: ReceiptLease | null;
  grants: Array<{
    grant_id: string;
    holder: string;
    scopes: string[];
    status: string;
    revoked_at: string | null;
    leases: ReceiptLease[];
  }>;
}

/** An audit event exactly as its leaf of the transparency log commits to it: the server's own type. */
export type { LoggedEvent as AuditEvent } from '../../../server/audit/audit.types';

export interface ApprovalRequest {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  task: { id: string; purpose?: string; owner?: string; status?: string };
  agent: string;
  scopes: string[];
  audience: string;
  tool: string | null;
  target: string | null;
  intent: string | null;
  args_digest: string;
  args_preview: string | null;
  risk: {
    task_type: string;
    data_sensitivity: string;
    risk_score: number;
    scopes: Array<{ name: string; sensitivity: string; cost: number; description?: string }>;
  };
  created_at: string;
  expires_at: string;
  decision: {
    outcome: string;
    by: { kind: string; issuer: string; subject: string; name: string };
    reason: string;
    at: string;
  } | null;
}
