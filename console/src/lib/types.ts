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

/** One hop of the delegation tree: the server's own type (server/audit/lineage.ts). */
import type { LineageNode } from '../../../server/audit/audit.types';

export type { LineageNode };

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
