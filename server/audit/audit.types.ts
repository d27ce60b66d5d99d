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

/** A stored event: `seq` orders the log; `hash` = sha256 over the canonical record including `prevHash`. */
export interface AuditEvent {
  seq: number;
  /** The appender's clock at write time, millisecond precision (the same instant the hash covers). */
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type ChainBreak = 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' | 'head_mismatch';

export interface VerifyResult {
  ok: boolean;
  /** Events whose sequence, link and hash were checked and found intact. */
  checked: number;
  /** The head read when the walk started: what an operator records or anchors elsewhere. */
  headSeq: number;
  headHash: string;
  /** The first broken link: for a `sequence_gap`, the first missing seq. */
  brokenAt?: { seq: number; reason: ChainBreak };
}

export interface VerifyOptions {
  /** Events read per query (keyset pagination on seq). Default 5000. */
  batchSize?: number;
  /** Called after each batch with the events checked so far and the head's seq (the total to check). */
  onProgress?: (checked: number, total: number) => void;
}

export interface AuditQuery {
  taskId?: string;
  grantId?: string;
  principal?: string;
  /** Return events with seq strictly greater than this (the last seq of the previous page). */
  afterSeq?: number;
  /** 1..1000. */
  limit: number;
}
