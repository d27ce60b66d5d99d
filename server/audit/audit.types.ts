/**
 * An event to append. `payload` is evidence for an auditor (ids, scopes, decisions, policy ids, reasons,
 * lease ids, token accessors, hashes) and NEVER a secret value: no Vault token, password, access token,
 * SVID or secret data (DESIGN "Rules that must hold"). The audit log is permanent and cannot be
 * redacted afterwards; obvious secret-shaped keys and values are refused by a guard, but the guard is a
 * safety net, not the rule.
 */
export interface AuditEventInput {
  /** A stable event name such as `grant.issued` or `policy.decision`. */
  type: string;
  taskId?: string | null;
  grantId?: string | null;
  /** The SPIFFE ID (or operator name) that caused the event. */
  principal?: string | null;
  payload: Record<string, unknown>;
}

/**
 * An event as appended, before the sequencer gives it a leaf index. `seq` is the insert order inside
 * the database only; the log's order is the leaf index, assigned in commit order after commit.
 */
export interface AuditEvent {
  seq: number;
  /** The appender's clock at write time, millisecond precision. */
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
}

/**
 * An event as the API returns it and as its leaf commits to it (RFC 8785 canonical JSON of exactly
 * this object): `at`, `type`, `task_id`, `grant_id`, `principal`, `payload` and `leaf_index`; events
 * written before the transparency log also carry their hash-chain fields `seq`, `prev_hash`, `hash`.
 */
export type LoggedEvent = {
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
};

export interface AuditQuery {
  taskId?: string;
  grantId?: string;
  principal?: string;
  /** Return events with a leaf index strictly greater than this (the last one of the previous page). */
  afterLeaf?: number;
  /** 1..1000. */
  limit: number;
}

/** A signed tree head (RFC 9162 §4.10), as the API returns it. */
export interface Checkpoint {
  tree_size: number;
  /** Base64 of the 32-byte SHA-256 root. */
  root_hash: string;
  /** Milliseconds since the epoch, strictly increasing from one checkpoint to the next. */
  timestamp: number;
  /** Compact JWS (ES256) whose payload is the RFC 8785 JSON of {root_hash, timestamp, tree_size}. */
  signature: string;
}

/** One event's place in the log: its type and leaf index (null until the sequencer has reached it). */
export interface EventLeaf {
  type: string;
  leaf_index: number | null;
}

/** One hop of a delegation tree as `GET /v1/{tasks,grants}/:id/lineage` returns it. */
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
  /** Where its token is accepted (`aud`). */
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
    /** The verified identity behind the approval: an OIDC issuer and subject, or a trust domain and SVID. */
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
  leases: Array<{
    kind: string;
    scope: string | null;
    state: string;
    lease_id: string | null;
    token_accessor: string | null;
  }>;
  /** The audit events of this hop with their leaf indexes (null until sequenced): provable one by one. */
  audit_events: EventLeaf[];
  children: LineageNode[];
}
