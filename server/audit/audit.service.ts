import type { DbOrTx, Tx } from '../db/database';
import { type Clock, systemClock } from '../shared/clock';
import { InvalidRequest } from '../shared/errors';
import { type ChainInput, findAuditEvents, insertChainedMany, insertChainedOne } from './audit.repository';
import type { AuditEvent, AuditEventInput, AuditQuery } from './audit.types';
import { checkAuditEvent } from './audit-event.guard';
import { auditHashTemplate } from './audit-hash';

export { verifyAuditChain } from './audit-chain.verifier';

/** Events per statement: the chaining CTE joins its input once per step, so keep each step cheap. */
const APPEND_CHUNK = 500;
const MAX_LIST_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Appends one event inside the CALLER's transaction, so the audit row commits or rolls back with the
 * state change it records. It locks the chain head until that transaction ends: append last, right
 * before commit, and never around a network call. One round trip. Use READ COMMITTED (the default): in
 * REPEATABLE READ or SERIALIZABLE a transaction that waited for the head fails with a serialization error.
 */
export async function appendAuditEvent(
  tx: Tx,
  event: AuditEventInput,
  clock: Clock = systemClock,
): Promise<AuditEvent> {
  return insertChainedOne(tx, toChainInput(event, clock.now()));
}

/**
 * Appends many events in order under one head lock (closing a task with a thousand grants), inside the
 * caller's transaction; one round trip per 500 events. All events share the clock reading. Every event
 * is validated before anything is written.
 */
export async function appendAuditEvents(
  tx: Tx,
  events: readonly AuditEventInput[],
  clock: Clock = systemClock,
): Promise<AuditEvent[]> {
  if (events.length === 0) return [];
  const at = clock.now();
  const inputs = events.map((event) => toChainInput(event, at));
  if (inputs.length === 1) return [await insertChainedOne(tx, inputs[0]!)];
  const stored: AuditEvent[] = [];
  for (let i = 0; i < inputs.length; i += APPEND_CHUNK) {
    stored.push(...(await insertChainedMany(tx, inputs.slice(i, i + APPEND_CHUNK))));
  }
  return stored;
}

function toChainInput(event: AuditEventInput, at: Date): ChainInput {
  const checked = checkAuditEvent(event);
  // A JS Date carries milliseconds, exactly what timestamptz keeps of it and what the hash covers.
  const fields = {
    at,
    type: checked.type,
    taskId: checked.taskId,
    grantId: checked.grantId,
    principal: checked.principal,
  };
  return {
    ...fields,
    payloadJson: checked.payloadJson,
    template: auditHashTemplate(fields, checked.payloadJson),
  };
}

/** Events matching every given filter, ascending by seq, after `afterSeq`: page with the last seq seen. */
export async function listAuditEvents(db: DbOrTx, q: AuditQuery): Promise<AuditEvent[]> {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIST_LIMIT) {
    throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  const afterSeq = q.afterSeq ?? 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
    throw new InvalidRequest('after must be a non-negative integer');
  return findAuditEvents(db, {
    taskId: optionalUuid('task', q.taskId),
    grantId: optionalUuid('grant', q.grantId),
    principal: q.principal,
    afterSeq,
    limit: q.limit,
  });
}

function optionalUuid(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!UUID.test(value)) throw new InvalidRequest(`${name} must be a uuid`);
  return value.toLowerCase();
}
