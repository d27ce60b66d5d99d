import { randomUUID } from 'node:crypto';
import { type Access, type Authorized, accessDenied } from '../access/access';
import type { DomainUnitOfWork, DomainWork } from '../access/unit';
import type { AuditEventInput } from '../audit/audit.types';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { ApprovalRequestRow, Db, TaskRow } from '../db/database';
import { type Actor, actorId } from '../identity/human';
import type { Clock } from '../shared/clock';
import { GrantlineError, QuotaExceeded } from '../shared/errors';
import { insertApproval } from './approval.repository';
import type { ApprovalChanges } from './approval-changes';
import { approvalRecordedEvent, deciderOf, recordedBy } from './approval-decider';
import {
  countPending,
  type Decider,
  findApprovalRequest,
  findPendingTwin,
  insertApprovalRequest,
  markDecided,
} from './approval-request.repository';
import { effectiveStatus, riskContext } from './approval-request.view';
import { ApprovalRequestClosed, ApprovalRequestNotFound, TaskNotOpen } from './task.errors';
import { findTask } from './task.repository';
import { taskFacts } from './task-facts';

/** Pending requests one task may have at once: an agent cannot flood the approvers' inbox. */
export const MAX_PENDING_PER_TASK = 20;

export interface ApprovalRequestDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
  catalogue: ScopeCatalogue;
  clock: Clock;
  changes: ApprovalChanges;
  /** The broker's own trust domain: the issuer of an approver workload's identity. */
  trustDomain: string;
  /** How long a request waits for a decision. */
  requestTtlSeconds: number;
}

export interface NewApprovalRequest {
  task: TaskRow;
  requester: string;
  scopes: string[];
  audience: string;
  tool?: string | undefined;
  target?: string | undefined;
  intent?: string | undefined;
  argsDigest: string;
  argsPreview?: string | undefined;
}

export interface Decision {
  decision: 'approve' | 'deny';
  reason: string;
  ttl: number;
  single_use: boolean;
  /** An approver workload may name the person it speaks for. */
  approver?: string | undefined;
}

const refusal = (taskId: string, principal: string, id: string, err: GrantlineError): AuditEventInput => ({
  type: 'approval_request.refused',
  taskId,
  principal,
  payload: { approval_request_id: id, error: err.code, reason: err.message },
});

/** Runs `step`; a 4xx refusal after policy allowed goes on the record with the allow. */
async function refusedOnRecord<T>(
  deps: ApprovalRequestDeps,
  allowed: Authorized,
  ids: { taskId: string; principal: string; id: string },
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof GrantlineError && err.status < 500)
      await deps.access.recordRefusal(allowed, refusal(ids.taskId, ids.principal, ids.id, err));
    throw err;
  }
}

/**
 * Files an approval request that policy allowed (RequestApproval): one unit holding the task row, so
 * the cap on pending requests holds under concurrency. The same agent asking again for the same scopes
 * and arguments gets its pending request back instead of a second one.
 */
export async function openApprovalRequest(
  deps: ApprovalRequestDeps,
  allowed: Authorized,
  q: NewApprovalRequest,
): Promise<ApprovalRequestRow> {
  const id = randomUUID();
  const ids = { taskId: q.task.id, principal: q.requester, id };
  return refusedOnRecord(deps, allowed, ids, () =>
    deps.uow.run({ task: q.task.id }, async (w) => {
      const task = (await findTask(w.tx, q.task.id))!;
      if (task.status !== 'open') throw new TaskNotOpen(task.status);
      const twin = await findPendingTwin(w.tx, { ...q, taskId: task.id, now: w.now });
      w.audit(allowed.event);
      if (twin) return twin;
      if ((await countPending(w.tx, task.id, w.now)) >= MAX_PENDING_PER_TASK)
        throw new QuotaExceeded('approval_requests', `the task has ${MAX_PENDING_PER_TASK} pending requests`);
      return insertRequest(w, deps, { ...q, task }, { id, allowed });
    }),
  );
}

async function insertRequest(
  w: DomainWork,
  deps: ApprovalRequestDeps,
  q: NewApprovalRequest,
  o: { id: string; allowed: Authorized },
): Promise<ApprovalRequestRow> {
  const row = await insertApprovalRequest(w.tx, {
    id: o.id,
    task_id: q.task.id,
    requester: q.requester,
    scopes: q.scopes,
    audience: q.audience,
    tool: q.tool ?? null,
    target: q.target ?? null,
    intent: q.intent ?? null,
    args_digest: q.argsDigest,
    args_preview: q.argsPreview ?? null,
    risk: JSON.stringify(riskContext(q.task, q.scopes, deps.catalogue)),
    policy_ids: o.allowed.decision.policyIds,
    policy_version: o.allowed.decision.policyVersion,
    expires_at: new Date(w.now.getTime() + deps.requestTtlSeconds * 1000),
  });
  w.audit({
    type: 'approval_request.opened',
    taskId: q.task.id,
    principal: q.requester,
    payload: {
      approval_request_id: row.id,
      scopes: row.scopes,
      audience: row.audience,
      tool: row.tool,
      target: row.target,
      args_digest: row.args_digest,
      args_preview: row.args_preview,
      expires_at: row.expires_at.toISOString(),
    },
  });
  return row;
}

/** Loads a request and its task, and decides ApproveTask; who may not even read it gets 404. */
async function authorizeDecision(deps: ApprovalRequestDeps, actor: Actor, id: string) {
  const request = await findApprovalRequest(deps.db, id);
  if (!request) throw new ApprovalRequestNotFound();
  const task = (await findTask(deps.db, request.task_id))!;
  const facts = taskFacts(task);
  const mayRead = () =>
    deps.access.wouldAllow(actor, {
      action: 'ReadApprovals',
      task: facts,
      context: { holder: request.requester },
    });
  const allowed = await deps.access.authorize(
    actor,
    { action: 'ApproveTask', task: facts },
    { taskId: task.id },
    { deniedAs: (d) => (mayRead() ? accessDenied('ApproveTask', d) : new ApprovalRequestNotFound()) },
  );
  return { request, allowed };
}

/**
 * An approver's answer. Approve: one approval per scope, bound to the request's args digest, carrying
 * the decider's verified identity, expiring after `ttl`, single-use when asked. Deny: the request is
 * closed and no approval exists. Either way the waiting agent is woken and the decision is audited.
 */
export async function decideApprovalRequest(
  deps: ApprovalRequestDeps,
  actor: Actor,
  id: string,
  input: Decision,
): Promise<ApprovalRequestRow> {
  const { request, allowed } = await authorizeDecision(deps, actor, id);
  const by = deciderOf(actor, deps.trustDomain, input.approver);
  const ids = { taskId: request.task_id, principal: actorId(actor), id };
  const decided = await refusedOnRecord(deps, allowed, ids, () =>
    deps.uow.run({ task: request.task_id }, async (w) => {
      const task = (await findTask(w.tx, request.task_id))!;
      if (input.decision === 'approve' && task.status !== 'open') throw new TaskNotOpen(task.status);
      const status = input.decision === 'approve' ? 'approved' : 'denied';
      const row = await markDecided(w.tx, { id, status, by, reason: input.reason, now: w.now });
      if (!row) {
        const current = (await findApprovalRequest(w.tx, id))!;
        throw new ApprovalRequestClosed(effectiveStatus(current, w.now));
      }
      const approvalIds = status === 'approved' ? await recordApprovals(w, row, by, input) : [];
      w.audit(allowed.event, {
        type: `approval_request.${status}`,
        taskId: row.task_id,
        principal: ids.principal,
        payload: {
          approval_request_id: row.id,
          decided_by: by,
          reason: input.reason,
          scopes: row.scopes,
          args_digest: row.args_digest,
          approval_ids: approvalIds,
        },
      });
      return row;
    }),
  );
  deps.changes.changed(id);
  return decided;
}

async function recordApprovals(
  w: DomainWork,
  request: ApprovalRequestRow,
  by: Decider,
  input: Decision,
): Promise<string[]> {
  const ids: string[] = [];
  for (const scope of request.scopes) {
    const a = await insertApproval(w.tx, {
      task_id: request.task_id,
      scope,
      approver: by.name,
      approver_kind: by.kind,
      approver_issuer: by.issuer,
      approver_subject: by.subject,
      approval_request_id: request.id,
      note: input.reason,
      recorded_by: recordedBy(by),
      single_use: input.single_use,
      args_digest: request.args_digest,
      expires_at: new Date(w.now.getTime() + input.ttl * 1000),
    });
    ids.push(a.id);
    w.audit(approvalRecordedEvent(a, by));
  }
  return ids;
}
