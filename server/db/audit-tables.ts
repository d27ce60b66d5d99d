import type { ColumnType, Generated } from 'kysely';

/** The audit log's tables (the transparency log and the hash chain before it); owned by server/audit. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = Record<string, unknown>> = ColumnType<T, string | T | undefined, string | T>;

export interface AuditEventsTable {
  seq: Generated<string>;
  at: Timestamp;
  type: string;
  task_id: string | null;
  grant_id: string | null;
  principal: string | null;
  payload: Json;
  /** The hash chain of events written before the transparency log (null after it). */
  prev_hash: string | null;
  hash: string | null;
  /** xid8 of the inserting transaction (null for the legacy chain): what the sequencer orders by. */
  tx: Generated<string | null>;
  /** RFC 8785 canonical JSON of the event as returned, without its leaf index (null for legacy). */
  body: string | null;
}

export interface AuditLeavesTable {
  leaf_index: string;
  seq: string;
  hash: Buffer;
}

export interface AuditTreeNodesTable {
  level: number;
  node_index: string;
  hash: Buffer;
}

export interface AuditCheckpointsTable {
  tree_size: string;
  root_hash: Buffer;
  timestamp_ms: string;
  key_id: string;
  signature: string;
}

export interface AuditSequencerTable {
  id: number;
  snapshot: string;
  legacy_events: string;
  legacy_last_seq: string;
}

export interface AuditHeadTable {
  id: number;
  seq: string;
  hash: string;
}
