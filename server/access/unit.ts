import { appendAuditEvents, auditAppendStep } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit.types';
import type { Db } from '../db/database';
import { createUnitOfWork, type UnitOfWork, type Work } from '../db/unit-of-work';
import type { Clock } from '../shared/clock';

/** A step of the domain's unit of work: its audit events are Grantline's audit events. */
export type DomainWork = Work<AuditEventInput>;
export type DomainUnitOfWork = UnitOfWork<AuditEventInput>;

/** The domain's unit of work: audit events are appended last, in the unit's own transaction. */
export function createDomainUnitOfWork(db: Db, clock: Clock): DomainUnitOfWork {
  return createUnitOfWork<AuditEventInput>({
    db,
    clock,
    appendAudit: async (tx, events, at) => {
      await appendAuditEvents(tx, events, { now: () => at });
    },
    auditStep: auditAppendStep,
  });
}
