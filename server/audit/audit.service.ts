import type { RawBuilder } from 'kysely';
import type { DbOrTx, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';
import { type Clock, systemClock } from '../shared/clock';
import { InvalidRequest } from '../shared/errors';
import {
  findEventLeaves,
  findLeafRows,
  insertEvents,
  insertEventsWhen,
  leafTextOf,
  type NewEventRow,
} from './audit.repository';
import type { AuditEvent, AuditEventInput, AuditQuery, EventLeaf, LoggedEvent } from './audit.types';
import { checkAuditEvent } from './audit-event.guard';
import { eventBody, loggedEvent } from './audit-leaf';

/** Events per statement (one JSON array each): a close of 10,000 grants appends in two statements. */
const APPEND_CHUNK = 5000;
const MAX_LIST_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Appends one event inside the CALLER's transaction, so the audit row commits or rolls back with the
 * state change it records. One insert, no shared row locked: appenders in any number of transactions and
 * brokers never wait for each other. The sequencer gives the event its leaf index after commit.
 */
export async function appendAuditEvent(
  tx: Tx,
  event: AuditEventInput,
  clock: Clock = systemClock,
): Promise<AuditEvent> {
  const [stored] = await insertEvents(tx, [toEventRow(event, clock.now())]);
  return stored!;
}

/**
 * Appends many events in order inside the caller's transaction (closing a task with a thousand grants);
 * one statement per 5000 events. All events share the clock reading; every event is validated before
 * anything is written. Events of one transaction keep their order in the log.
 */
export async function appendAuditEvents(
  tx: Tx,
  events: readonly AuditEventInput[],
  clock: Clock = systemClock,
): Promise<AuditEvent[]> {
  if (events.length === 0) return [];
  const at = clock.now();
  const rows = events.map((event) => toEventRow(event, at));
  const stored: AuditEvent[] = [];
  for (let i = 0; i < rows.length; i += APPEND_CHUNK) {
    stored.push(...(await insertEvents(tx, rows.slice(i, i + APPEND_CHUNK))));
  }
  return stored;
}

/** The append as the last step of a one-statement unit of work, made only when `when` holds. */
export function auditAppendStep(
  events: readonly AuditEventInput[],
  at: Date,
  when: RawBuilder<boolean>,
): Cte {
  const rows = events.map((e) => toEventRow(e, at));
  return cte('audit_append', insertEventsWhen(rows, when));
}

function toEventRow(event: AuditEventInput, at: Date): NewEventRow {
  const checked = checkAuditEvent(event);
  // A JS Date carries milliseconds, exactly what timestamptz keeps of it and what the body states.
  const fields = {
    at,
    type: checked.type,
    taskId: checked.taskId,
    grantId: checked.grantId,
    principal: checked.principal,
  };
  return { ...fields, payloadJson: checked.payloadJson, body: eventBody(fields, checked.payloadJson) };
}

/**
 * Sequenced events matching every given filter, ascending by leaf index, after `afterLeaf`: page with
 * the last leaf index seen. Each is exactly the object its leaf commits to.
 */
export async function listAuditEvents(db: DbOrTx, q: AuditQuery): Promise<LoggedEvent[]> {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIST_LIMIT) {
    throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  const afterLeaf = q.afterLeaf ?? -1;
  if (!Number.isSafeInteger(afterLeaf) || afterLeaf < -1)
    throw new InvalidRequest('after must be a non-negative integer');
  const rows = await findLeafRows(db, {
    taskId: optionalUuid('task', q.taskId),
    grantId: optionalUuid('grant', q.grantId),
    principal: q.principal,
    afterLeaf,
    limit: q.limit,
  });
  return rows.map((r) => loggedEvent(leafTextOf(r)));
}

function optionalUuid(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!UUID.test(value)) throw new InvalidRequest(`${name} must be a uuid`);
  return value.toLowerCase();
}

/**
 * The leaf indexes of the events of a task, or of some grants, grouped by grant id (`null`: the task's
 * own events), in log order: what lineage and receipts cite so an auditor can prove each with an
 * inclusion proof.
 */
export async function eventLeaves(
  db: DbOrTx,
  of: { taskId: string } | { grantIds: readonly string[] },
): Promise<Map<string | null, EventLeaf[]>> {
  const byGrant = new Map<string | null, EventLeaf[]>();
  for (const r of await findEventLeaves(db, of)) {
    const list = byGrant.get(r.grant_id) ?? [];
    list.push({ type: r.type, leaf_index: r.leaf_index });
    byGrant.set(r.grant_id, list);
  }
  return byGrant;
}
