/** Wire shapes of the broker's API (README "HTTP API"); field names are the API's own. */

export type TaskStatus = 'open' | 'closing' | 'closed' | 'expired';

export interface TaskLimits {
  max_grants?: number;
  max_active?: number;
  max_depth?: number;
  max_fanout?: number;
  budget?: number;
  /** Tool calls (times their scopes' action cost) all the task's grants may make; absent: not capped. */
  max_actions?: number;
}

export interface OpenTaskRequest {
  purpose: string;
  /** SPIFFE IDs of the agents allowed to request grants in the task. */
  agents: string[];
  /** The scope ceiling: no grant in the task goes beyond it. */
  scopes: string[];
  /**
   * Workloads (besides the agents) grants may be delegated to: exact SPIFFE IDs, or
   * `spiffe://<broker's trust domain>/<path>/*`.
   */
  delegates?: string[];
  /** The audiences (or RFC 8707 resource URIs) the task's tokens may carry; default: its scopes' audiences. */
  audiences?: string[];
  /** Seconds, or a duration such as `"30m"`. */
  ttl?: number | string;
  limits?: TaskLimits;
  context?: {
    task_type?: string;
    data_sensitivity?: 'low' | 'medium' | 'high';
    risk_score?: number;
  } & Record<string, string | number | boolean | undefined>;
}

export interface Task {
  id: string;
  status: TaskStatus;
  purpose: string;
  owner: string;
  agents: string[];
  delegates: string[];
  scopes: string[];
  audiences: string[];
  ttl: number;
  context: Record<string, unknown>;
  limits: Required<Omit<TaskLimits, 'max_actions'>> & { max_actions: number | null };
  counters: {
    grants_issued: number;
    active_grants: number;
    budget_spent: number;
    budget_remaining: number;
    actions_spent: number;
    /** Null when the task has no `max_actions`. */
    actions_remaining: number | null;
  };
  policy_version: string;
  created_at: string;
  expires_at: string;
  expires_in: number;
  closing_at: string | null;
  closed_at: string | null;
  close_reason: string | null;
}

export interface ApprovalRequest {
  scope: string;
  approver: string;
  ttl?: number | string;
  note?: string;
  single_use?: boolean;
  /** `sha256:<64 hex>` of the exact arguments the approval covers. */
  args_digest?: string;
}

export interface Approval {
  id: string;
  task_id: string;
  scope: string;
  approver: string;
  note: string | null;
  recorded_by: string;
  single_use: boolean;
  args_digest: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by_grant: string | null;
}

export type LeaseState = 'active' | 'revoked' | 'expired' | 'retrying' | 'failed' | (string & {});

export interface ReceiptLease {
  kind: string;
  scope: string | null;
  lease_id: string | null;
  token_accessor: string | null;
  state: LeaseState;
  attempts: number;
  last_error: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  /** When the broker proved the handle dead (Vault lookup gone; the database login refused). */
  verified_at: string | null;
  /** The PostgreSQL login a database lease opened. */
  database_login?: string;
}

export interface Receipt {
  task_id: string;
  status: TaskStatus;
  close_reason: string | null;
  closing_at: string | null;
  closed_at: string | null;
  /** True once the task is closed and every lease is confirmed revoked or expired. */
  complete: boolean;
  summary: { grants: number; leases: number; lease_states: Record<string, number>; pending_jobs: number };
  task_token: ReceiptLease | null;
  grants: Array<{
    grant_id: string;
    parent_id: string | null;
    holder: string;
    scopes: string[];
    status: string;
    issued_at: string;
    expires_at: string;
    revoked_at: string | null;
    revoke_reason: string | null;
    leases: ReceiptLease[];
  }>;
  jobs: Array<{
    id: string;
    kind: string;
    status: string;
    attempts: number;
    last_error: string | null;
    due_at: string;
  }>;
}

interface SecretBase {
  scope: string;
  /** Non-secret facts about where the credential works (host, port, database …). */
  connection?: Record<string, string | number>;
}
/** A dynamic secret (e.g. a database login) with its Vault lease; it dies with the grant. */
export interface DynamicSecret extends SecretBase {
  kind: 'dynamic';
  data: { username?: string; password?: string } & Record<string, unknown>;
  lease_id: string;
  lease_duration: number;
}
/** A value read from Vault's KV store. */
export interface KvSecret extends SecretBase {
  kind: 'kv';
  data: Record<string, unknown>;
  lease_id: null;
  lease_duration: null;
}
/** A Vault token scoped to the scope's policies, revoked with the grant. */
export interface TokenSecret extends SecretBase {
  kind: 'token';
  data: { token: string; accessor: string };
  lease_id: null;
  lease_duration: number;
}
export type Secret = DynamicSecret | KvSecret | TokenSecret;

export interface Grant {
  /** RFC 9207: the issuer that answered (compare it with the one you discovered). */
  iss?: string;
  grant_id: string;
  task_id?: string;
  /** An RFC 9068 JWT for the audience the grant names. */
  access_token: string;
  token_type: 'Bearer' | (string & {});
  expires_in: number;
  /** Space-separated scopes. */
  scope: string;
  secrets: Secret[];
  /** Set on a grant obtained by token exchange (RFC 8693 §2.2.1). */
  issued_token_type?: string;
}

export interface GrantContext {
  tool?: string;
  target?: string;
  intent?: string;
  /** `sha256:<64 hex>` of the exact arguments, matched against a digest-bound approval. */
  args_digest?: string;
}

export interface GrantRequest {
  scopes: string[];
  /** The resource server the token is for (becomes `aud`). */
  audience?: string;
  /**
   * RFC 8707 resource indicators (absolute URIs, each declared by the task): the token's `aud`, an array
   * when there are several. Give either this or `audience`.
   */
  resource?: string | string[];
  ttl?: number | string;
  context?: GrantContext;
}

export interface DelegationRequest {
  /** The SPIFFE ID that alone may redeem the offer. */
  to: string;
  scopes: string[];
  ttl?: number | string;
  budget?: number;
  /** Actions reserved for the delegate out of this grant's pool; absent: it shares this grant's. */
  actions?: number;
  may_redelegate?: boolean;
}

export interface DelegationOffer {
  offer_id: string;
  /** Single use, bound to `to`: hand it to that workload, which redeems it with its own SVID. */
  delegation_token: string;
  token_type: string;
  expires_in: number;
  to: string;
  scopes: string[];
  ttl: number;
  budget: number;
  actions: number | null;
  may_redelegate: boolean;
}

export interface RedeemOptions {
  /** Ask for fewer scopes than offered. */
  scopes?: string[];
  /** Narrow where the token is accepted (within the parent's audiences); absent: the parent's. */
  audience?: string;
  resource?: string | string[];
}

export interface RevokeResult {
  grant_id: string;
  status: string;
  /** Grants this call revoked (the grant and its live subtree); empty when it was already inactive. */
  revoked: string[];
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
  /** Its action share (null: it draws on its parent's pool), what its pool gave out, what its calls cost. */
  actions: { reserved: number | null; spent: number; used: number };
  audiences: string[];
  may_redelegate: boolean;
  children_count: number;
  constraints: unknown;
  policy_ids: string[];
  policy_version: string;
  offer_id: string | null;
  approval: {
    id: string;
    approver: string;
    scope: string;
    expires_at: string;
    args_digest: string | null;
  } | null;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  leases: Array<{
    kind: string;
    scope: string | null;
    state: string;
    lease_id: string | null;
    token_accessor: string | null;
  }>;
  children?: LineageNode[];
}

export interface TaskLineage {
  task: Task;
  grants: LineageNode[];
}

export interface GrantLineage {
  task: Task;
  /** From the root grant down to this one. */
  path: LineageNode[];
  subtree: LineageNode;
}

/** RFC 7662 §2.2; a dead token is exactly `{active: false}`. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      iss: string;
      sub: string;
      aud: string | string[];
      client_id: string;
      scope: string;
      token_type: string;
      jti: string;
      task_id: string;
      iat: number;
      exp: number;
      act: unknown;
      cnf?: { 'x5t#S256': string };
    };

/** One tool call served with a grant's token, as the resource server reports it. */
export interface UsageCall {
  /** Units of work (≥ 1); the broker multiplies it by the grant's action cost. */
  cost: number;
  /** When the call was made (RFC 3339). */
  at: string;
  tool?: string;
}

/** The broker's answer to a usage report. */
export interface UsageResult {
  grant_id: string;
  report_id: string;
  calls: number;
  /** Calls counted, in order; the rest did not fit in the grant's pool. */
  counted: number;
  charged: number;
  action_cost: number;
  actions: {
    pool: 'task' | 'grant';
    pool_grant_id?: string;
    limit: number | null;
    spent: number;
    remaining: number | null;
  };
  /** Grants the broker revoked because this report spent their pool (also in the revocation feed). */
  revoked: string[];
  /** The same report_id was reported before: counted once. */
  duplicate: boolean;
}

export interface RevokedGrant {
  seq: number;
  jti: string;
  task_id: string;
  reason: string;
  revoked_at: string;
}

export interface RevocationPage {
  revocations: RevokedGrant[];
  next: number;
}

/**
 * One event of the audit transparency log, exactly the object its leaf commits to: the leaf is the RFC 8785
 * canonical JSON of this object. Events written before the transparency log also carry their hash-chain
 * fields `seq`, `prev_hash` and `hash`.
 */
export interface AuditEvent {
  /** 0-based, dense, in commit order. */
  leaf_index: number;
  at: string;
  type: string;
  task_id: string | null;
  grant_id: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
  seq?: number;
  prev_hash?: string;
  hash?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** The `after` of the next page (a leaf index), or null when the log is empty. */
  next: number | null;
}

/** A signed tree head (RFC 9162 §4.10). */
export interface AuditCheckpoint {
  tree_size: number;
  /** Base64 of the 32-byte SHA-256 root. */
  root_hash: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Compact JWS (ES256, the JWKS key with use "audit") over the RFC 8785 JSON of {root_hash, timestamp, tree_size}. */
  signature: string;
}

export interface AuditCheckpointPage {
  checkpoints: AuditCheckpoint[];
  next: number;
}

/** RFC 9162 §2.1.3 inclusion proof: the audit path from the leaf to the root, base64 hashes. */
export interface AuditInclusionProof {
  leaf_index: number;
  tree_size: number;
  audit_path: string[];
}

/** RFC 9162 §2.1.4 consistency proof between two tree sizes, base64 hashes. */
export interface AuditConsistencyProof {
  first: number;
  second: number;
  consistency_path: string[];
}

/** The broker's full verification of its log: every leaf recomputed, every checkpoint's signature and root. */
export interface AuditVerification {
  ok: boolean;
  checked: number;
  tree_size: number;
  root_hash: string;
  checkpoints_checked: number;
  latest_checkpoint: AuditCheckpoint | null;
  legacy_events: number;
  broken_at?: {
    leaf_index: number | null;
    reason: string;
    detail?: string;
    tree_size?: number;
    seq?: number;
  };
}
