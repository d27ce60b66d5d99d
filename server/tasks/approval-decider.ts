import type { AuditEventInput } from '../audit/audit.types';
import type { ApprovalRow } from '../db/database';
import { type Actor, isHuman } from '../identity/human';
import type { Decider } from './approval-request.repository';

/** Who decided, as verified: the ID token's issuer and subject, or the workload's trust domain and SVID. */
export function deciderOf(actor: Actor, trustDomain: string, onBehalfOf?: string): Decider {
  if (isHuman(actor))
    return { kind: 'human', issuer: actor.issuer, subject: actor.subject, name: actor.name };
  return {
    kind: 'workload',
    issuer: `spiffe://${trustDomain}`,
    subject: actor.spiffeId,
    name: onBehalfOf ?? actor.spiffeId,
  };
}

/** The actor id (as the audit log names it) of a decider. */
export const recordedBy = (by: Decider): string =>
  by.kind === 'human' ? `${by.issuer}#${by.subject}` : by.subject;

/** The audit event of one approval, whichever way it was given. */
export function approvalRecordedEvent(a: ApprovalRow, by: Decider): AuditEventInput {
  return {
    type: 'approval.recorded',
    taskId: a.task_id,
    principal: a.recorded_by,
    payload: {
      approval_id: a.id,
      scope: a.scope,
      approver: a.approver,
      approver_kind: by.kind,
      approver_issuer: by.issuer,
      approver_subject: by.subject,
      approval_request_id: a.approval_request_id,
      expires_at: a.expires_at.toISOString(),
      single_use: a.single_use,
      args_digest: a.args_digest,
      note: a.note,
    },
  };
}
