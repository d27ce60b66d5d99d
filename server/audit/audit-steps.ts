import { type RawBuilder, sql } from 'kysely';
import { type Cte, cte } from '../db/one-statement';
import type { AuditEventInput } from './audit.types';
import { checkAuditEvent } from './audit-event.guard';
import { auditHashTemplate } from './audit-hash';

/**
 * The audit append as the last steps of a one-statement unit (db/one-statement.ts): the same chaining as
 * insertChainedMany, written only when `when` holds (the state change it records happened). The head row
 * is locked only once every step before it has run, and only for the rest of this one statement, never
 * across a round trip. Every event is validated before anything is sent.
 */
export function auditAppendSteps(events: AuditEventInput[], at: Date, when: RawBuilder<boolean>): Cte[] {
  const rows = events.map((event) => {
    const e = checkAuditEvent(event);
    const fields = { at, type: e.type, taskId: e.taskId, grantId: e.grantId, principal: e.principal };
    return { ...fields, payloadJson: e.payloadJson, template: auditHashTemplate(fields, e.payloadJson) };
  });
  const col = <T>(pick: (r: (typeof rows)[number]) => T): T[] => rows.map(pick);
  return [
    cte('audit_lock', sql`select seq, hash from audit_head where id = 1 and (${when}) for update`),
    cte(
      'audit_in',
      sql`select * from unnest(
        ${col((r) => r.at.toISOString())}::timestamptz[], ${col((r) => r.type)}::text[],
        ${col((r) => r.taskId)}::uuid[], ${col((r) => r.grantId)}::uuid[], ${col((r) => r.principal)}::text[],
        ${col((r) => r.payloadJson)}::text[], ${col((r) => r.template.beforePrevHash)}::text[],
        ${col((r) => r.template.beforeSeq)}::text[], ${col((r) => r.template.afterSeq)}::text[]
      ) with ordinality as i(at, type, task_id, grant_id, principal, payload, t_prev, t_seq, t_after, n)`,
    ),
    cte(
      'audit_chain',
      sql`select 0::bigint as n, seq, null::text as prev_hash, hash from audit_lock
      union all
      select i.n, c.seq + 1, c.hash,
        encode(sha256(convert_to(i.t_prev || c.hash || i.t_seq || (c.seq + 1)::text || i.t_after, 'UTF8')), 'hex')
      from audit_chain c join audit_in i on i.n = c.n + 1`,
    ),
    cte(
      'audit_new',
      sql`insert into audit_events (seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)
      select c.seq, i.at, i.type, i.task_id, i.grant_id, i.principal, i.payload::jsonb, c.prev_hash, c.hash
      from audit_chain c join audit_in i on i.n = c.n
      returning seq, hash`,
    ),
    cte(
      'audit_move',
      sql`update audit_head h set seq = last.seq, hash = last.hash
      from (select seq, hash from audit_new order by seq desc limit 1) last
      where h.id = 1`,
    ),
  ];
}
