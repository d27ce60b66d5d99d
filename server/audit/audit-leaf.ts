import type { LoggedEvent } from './audit.types';
import { canonicalJson } from './canonical-json';

/**
 * The bytes each leaf commits to (issue 13 §2): the RFC 8785 canonical JSON of the event object exactly
 * as the API returns it, `leaf_index` included. New events store that JSON without `leaf_index` (the
 * body, written at append time when the index is not known yet); the index is spliced in when the leaf
 * is built. RFC 8785 sorts members by name, so `leaf_index` always sits between `grant_id` and
 * `payload`, and nothing before `payload` (an ISO timestamp, a uuid or null) can contain `,"payload":`.
 */

const PAYLOAD_MEMBER = ',"payload":';

export interface BodyFields {
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
}

/** The canonical body of a new event; equals canonicalJson of the same object (tested). */
export function eventBody(e: BodyFields, payloadJson: string): string {
  return (
    `{"at":${JSON.stringify(e.at.toISOString())},"grant_id":${canonicalJson(e.grantId)}` +
    `${PAYLOAD_MEMBER}${payloadJson},"principal":${canonicalJson(e.principal)},` +
    `"task_id":${canonicalJson(e.taskId)},"type":${canonicalJson(e.type)}}`
  );
}

/** The leaf of a new event: its body with `"leaf_index":N` in canonical position. */
export function leafFromBody(body: string, leafIndex: number): string {
  const at = body.indexOf(PAYLOAD_MEMBER);
  if (at < 0) throw new Error('audit event body has no payload member');
  return `${body.slice(0, at)},"leaf_index":${leafIndex}${body.slice(at)}`;
}

/** A row of the hash chain written before the transparency log, as stored. */
export interface LegacyRow {
  seq: number;
  at: Date;
  type: string;
  task_id: string | null;
  grant_id: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** The leaf of a legacy event: every stored field, chain fields included, plus its leaf index. */
export function leafFromLegacy(row: LegacyRow, leafIndex: number): string {
  return canonicalJson({
    leaf_index: leafIndex,
    seq: row.seq,
    at: row.at.toISOString(),
    type: row.type,
    task_id: row.task_id,
    grant_id: row.grant_id,
    principal: row.principal,
    payload: row.payload,
    prev_hash: row.prev_hash,
    hash: row.hash,
  });
}

/** The event object the API returns for a leaf (the leaf text parsed: nothing added, nothing lost). */
export const loggedEvent = (leaf: string): LoggedEvent => JSON.parse(leaf) as LoggedEvent;
