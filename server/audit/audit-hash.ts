import { createHash } from 'node:crypto';
import type { AuditEvent } from './audit.types';
import { canonicalJson } from './canonical-json';

/** The `prev_hash` of event 1 and the hash of an empty log (audit_head's initial value). */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an event's hash covers, everything but the hash itself. */
export type ChainedRecord = Omit<AuditEvent, 'hash'>;

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

/**
 * The canonical record of an event cut around the two values only known under the head lock, so the
 * database can finish the hash in the same statement that takes the lock (one round trip per append):
 * `sha256(beforePrevHash || prev_hash || beforeSeq || seq || afterSeq)` equals `auditHash` of the
 * full record. The cut relies on RFC 8785 member order: at, grant_id, payload, prev_hash, principal,
 * seq, task_id, type; a hex hash and a decimal seq are already in canonical form.
 */
export interface HashTemplate {
  beforePrevHash: string;
  beforeSeq: string;
  afterSeq: string;
}

export function auditHashTemplate(
  r: Omit<ChainedRecord, 'seq' | 'prevHash' | 'payload'>,
  payloadJson: string,
): HashTemplate {
  return {
    beforePrevHash: `{"at":${canonicalJson(r.at.toISOString())},"grant_id":${canonicalJson(r.grantId)},"payload":${payloadJson},"prev_hash":"`,
    beforeSeq: `","principal":${canonicalJson(r.principal)},"seq":`,
    afterSeq: `,"task_id":${canonicalJson(r.taskId)},"type":${canonicalJson(r.type)}}`,
  };
}

export const fillHashTemplate = (t: HashTemplate, prevHash: string, seq: number): string =>
  `${t.beforePrevHash}${prevHash}${t.beforeSeq}${seq}${t.afterSeq}`;
