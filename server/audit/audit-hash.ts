import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * The hash chain of events written before the transparency log (migration 2026_11_30_0001). It is no
 * longer extended, but those events keep their chain, which `audit verify` still checks link by link.
 */

/** The `prev_hash` of event 1 and the hash of an empty chain (audit_head's initial value). */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields a legacy event's hash covers: everything stored but the hash itself. */
export interface ChainedRecord {
  seq: number;
  at: Date;
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  payload: Record<string, unknown>;
  prevHash: string;
}

/** The canonical JSON the hash is taken over: snake_case names as stored, `at` as an ISO string (ms, UTC). */
export function auditRecordJson(r: ChainedRecord): string {
  return canonicalJson({
    seq: r.seq,
    at: r.at.toISOString(),
    type: r.type,
    task_id: r.taskId,
    grant_id: r.grantId,
    principal: r.principal,
    payload: r.payload,
    prev_hash: r.prevHash,
  });
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export const auditHash = (r: ChainedRecord): string => sha256Hex(auditRecordJson(r));
