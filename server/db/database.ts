import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

import type {
  AuditCheckpointsTable,
  AuditEventsTable,
  AuditHeadTable,
  AuditLeavesTable,
  AuditSequencerTable,
  AuditTreeNodesTable,
} from './audit-tables';

export type * from './audit-tables';

type Json<T = Record<string, unknown>> = ColumnType<T, string | T | undefined, string | T>;

export type TaskStatus = 'open' | 'closing' | 'closed' | 'expired';
export type GrantStatus = 'pending' | 'active' | 'revoked' | 'expired' | 'failed';
export type OfferStatus = 'pending' | 'redeemed' | 'expired' | 'revoked';
export type LeaseKind = 'task_token' | 'grant_token' | 'scope_token' | 'lease';
export type LeaseState = 'active' | 'revoked' | 'expired' | 'retrying' | 'irrevocable';
export type JobStatus = 'pending' | 'done' | 'failed';

export interface TasksTable {
  id: Generated<string>;
  owner: string;
  purpose: string;
  status: ColumnType<TaskStatus, TaskStatus | undefined, TaskStatus>;
  agents: string[];
  scopes: string[];
  /** The audiences the task's tokens may carry (`aud`). */
  audiences: ColumnType<string[], string[] | undefined, string[]>;
  /** Who besides `agents` a grant may be delegated to: SPIFFE IDs, or `spiffe://td/path/*` patterns. */
  delegates: ColumnType<string[], string[] | undefined, string[]>;
  context: Json;
  ttl_seconds: number;
  max_grants: number;
  max_active: number;
  max_depth: number;
  max_fanout: number;
  budget: number;
  /** Tool calls (weighted by cost) the task's grants may make in all; null: counted, not capped. */
  max_actions: number | null;
  grants_issued: Generated<number>;
  active_grants: Generated<number>;
  budget_spent: Generated<number>;
  /** What the task's own action pool gave out: direct grants' calls and shares reserved for offers. */
  actions_spent: Generated<number>;
  vault_token_accessor: string | null;
  policy_version: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  closing_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  close_reason: string | null;
}

export interface ApprovalsTable {
  id: Generated<string>;
  task_id: string;
  scope: string;
  approver: string;
  note: string | null;
  recorded_by: string;
  single_use: Generated<boolean>;
  args_digest: string | null;
  used_at: NullableTimestamp;
  used_by_grant: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  /** Who decided, verified: an OIDC issuer and subject (a human) or the trust domain and SPIFFE ID. */
  approver_kind: ApproverKind | null;
  approver_issuer: string | null;
  approver_subject: string | null;
  approval_request_id: string | null;
}

export type ApproverKind = 'human' | 'workload';
export type ApprovalRequestStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface ApprovalRequestsTable {
  id: string;
  task_id: string;
  requester: string;
  scopes: string[];
  audience: string;
  tool: string | null;
  target: string | null;
  intent: string | null;
  args_digest: string;
  args_preview: string | null;
  risk: Json;
  status: ColumnType<ApprovalRequestStatus, ApprovalRequestStatus | undefined, ApprovalRequestStatus>;
  policy_ids: ColumnType<string[], string[] | undefined, string[]>;
  policy_version: string;
  decided_by_kind: ApproverKind | null;
  decided_by_issuer: string | null;
  decided_by_subject: string | null;
  decided_by_name: string | null;
  decision_reason: string | null;
  decided_at: NullableTimestamp;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface ConsoleSignInLinksTable {
  jti: string;
  used_at: Timestamp;
  expires_at: Timestamp;
}

export interface GrantsTable {
  id: string;
  task_id: string;
  parent_id: string | null;
  offer_id: string | null;
  depth: Generated<number>;
  holder: string;
  chain: string[];
  scopes: string[];
  /** The token's `aud`: one audience, or the RFC 8707 resources the grant was asked for. */
  audiences: string[];
  ttl_seconds: number;
  cost: number;
  budget_reserved: number | null;
  budget_spent: Generated<number>;
  /** The action share its offer reserved for it; null: it draws on its parent's pool (or the task's). */
  actions_reserved: number | null;
  /** What its own pool gave out (calls of the grants drawing on it, shares reserved below it). */
  actions_spent: Generated<number>;
  /** What its own tool calls cost. */
  actions_used: Generated<number>;
  children: Generated<number>;
  may_redelegate: Generated<boolean>;
  constraints: Json;
  status: ColumnType<GrantStatus, GrantStatus | undefined, GrantStatus>;
  policy_ids: ColumnType<string[], string[] | undefined, string[]>;
  policy_version: string;
  approval_id: string | null;
  /** The approved arguments' digest when the grant rests on a digest-bound approval (or its parent did). */
  args_digest: string | null;
  vault_token_accessor: string | null;
  cert_thumbprint: string | null;
  issued_at: Generated<Date>;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
}

export interface DelegationOffersTable {
  id: string;
  task_id: string;
  parent_grant_id: string;
  from_holder: string;
  to_holder: string;
  scopes: string[];
  ttl_seconds: number;
  budget: number;
  /** Actions reserved from the parent's pool for the child; null: the child shares its parent's. */
  actions: number | null;
  may_redelegate: boolean;
  status: ColumnType<OfferStatus, OfferStatus | undefined, OfferStatus>;
  policy_ids: ColumnType<string[], string[] | undefined, string[]>;
  policy_version: string;
  redeemed_grant_id: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  redeemed_at: NullableTimestamp;
}

export interface LeasesTable {
  id: Generated<string>;
  task_id: string;
  grant_id: string | null;
  scope: string | null;
  kind: LeaseKind;
  vault_lease_id: string | null;
  vault_token_accessor: string | null;
  state: ColumnType<LeaseState, LeaseState | undefined, LeaseState>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Generated<Date>;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  /** The PostgreSQL login a database lease opened, and the target it lives on (GRANTLINE_DB_TARGETS). */
  db_role: string | null;
  db_target: string | null;
  /** When the broker proved the handle dead (lookup gone; login refused and no session left). */
  verified_at: NullableTimestamp;
}

export interface RevocationJobsTable {
  id: Generated<string>;
  task_id: string;
  grant_id: string | null;
  kind: string;
  payload: Json;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  due_at: Timestamp;
  created_at: Generated<Date>;
  done_at: NullableTimestamp;
  /** The current claim: a worker's writes for the job count only while this is still its claim. */
  claim: string | null;
}

export interface RevocationFeedTable {
  /** Insert order. */
  id: Generated<string>;
  /** Commit order, assigned after commit by the feed sequencer (null until then). */
  seq: string | null;
  grant_id: string;
  task_id: string;
  reason: string;
  revoked_at: Generated<Date>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json;
  status: 'current' | 'previous' | 'retired';
  created_at: Generated<Date>;
  retired_at: NullableTimestamp;
}

export interface UsageReportsTable {
  /** Chosen by the reporter: a retried report has the same id and counts once. */
  id: string;
  grant_id: string;
  task_id: string;
  reported_by: string;
  calls: number;
  counted: number;
  charged: number;
  received_at: Generated<Date>;
}

export interface Database {
  tasks: TasksTable;
  approvals: ApprovalsTable;
  approval_requests: ApprovalRequestsTable;
  console_sign_in_links: ConsoleSignInLinksTable;
  grants: GrantsTable;
  delegation_offers: DelegationOffersTable;
  leases: LeasesTable;
  revocation_jobs: RevocationJobsTable;
  revocation_feed: RevocationFeedTable;
  usage_reports: UsageReportsTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  audit_leaves: AuditLeavesTable;
  audit_tree_nodes: AuditTreeNodesTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_sequencer: AuditSequencerTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Repository functions take either: inside a transaction every call passes the transaction. */
export type DbOrTx = Kysely<Database> | Transaction<Database>;

export type TaskRow = Selectable<TasksTable>;
export type GrantRow = Selectable<GrantsTable>;
export type LeaseRow = Selectable<LeasesTable>;
export type ApprovalRow = Selectable<ApprovalsTable>;
export type ApprovalRequestRow = Selectable<ApprovalRequestsTable>;
export type OfferRow = Selectable<DelegationOffersTable>;
export type JobRow = Selectable<RevocationJobsTable>;
export type NewGrant = Insertable<GrantsTable>;
export type NewLease = Insertable<LeasesTable>;
export type TaskUpdate = Updateable<TasksTable>;
