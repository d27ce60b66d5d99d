import type { Access } from '../access/access';
import type { ApprovalRequestRow, Db, TaskRow } from '../db/database';
import type { Actor } from '../identity/human';
import type { Clock } from '../shared/clock';
import { Conflict, InvalidRequest } from '../shared/errors';
import { listApprovalsOfRequest } from './approval.repository';
import type { ApprovalChanges } from './approval-changes';
import { findApprovalRequest, listApprovalRequests } from './approval-request.repository';
import type { ListApprovalRequestsInput } from './approval-request.schema';
import { approvalRequestView, effectiveStatus, pollPath } from './approval-request.view';
import { ApprovalRequestNotFound } from './task.errors';
import { findTask, findTasks } from './task.repository';
import { taskFacts } from './task-facts';

export interface ApprovalReadDeps {
  db: Db;
  access: Access;
  clock: Clock;
  changes: ApprovalChanges;
}

/** Between wake-ups, a waiter re-reads its request this often (a decision on another broker). */
const REREAD_MS = 1000;
/** Long polls one broker holds at once; beyond this, callers get the current state at once. */
const MAX_WAITERS = 500;
let waiters = 0;

const readQuestion = (task: TaskRow, r: ApprovalRequestRow) => ({
  action: 'ReadApprovals' as const,
  task: taskFacts(task),
  context: { holder: r.requester },
});

async function viewOf(deps: ApprovalReadDeps, r: ApprovalRequestRow, task: TaskRow | undefined) {
  const approvals = r.status === 'approved' ? await listApprovalsOfRequest(deps.db, r.id) : [];
  return approvalRequestView(r, { task, approvals, now: deps.clock.now() });
}

/**
 * `GET /v1/approval-requests/:id?wait=`: the agent that asked, or an approver. With `wait`, holds the
 * answer until the request leaves `pending` or the wait ends (the CIBA poll mode, without a phone).
 * Who may not read it gets 404, on the record.
 */
export async function readApprovalRequest(
  deps: ApprovalReadDeps,
  actor: Actor,
  id: string,
  opts: { waitSeconds?: number | undefined; signal?: AbortSignal } = {},
) {
  let request = await findApprovalRequest(deps.db, id);
  if (!request) throw new ApprovalRequestNotFound();
  const task = (await findTask(deps.db, request.task_id))!;
  await deps.access.authorizeRead(
    actor,
    readQuestion(task, request),
    { taskId: task.id },
    { deniedAs: () => new ApprovalRequestNotFound() },
  );
  const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
  if (waiters >= MAX_WAITERS) return viewOf(deps, request, task);
  waiters++;
  try {
    while (effectiveStatus(request, deps.clock.now()) === 'pending' && Date.now() < deadline) {
      if (opts.signal?.aborted) break;
      await deps.changes.wait(id, Math.min(REREAD_MS, deadline - Date.now()), opts.signal);
      request = (await findApprovalRequest(deps.db, id))!;
    }
  } finally {
    waiters--;
  }
  return viewOf(deps, request, task);
}

/** The approvals inbox: requests the actor may read (ReadApprovals), newest first. */
export async function listApprovalRequestsFor(
  deps: ApprovalReadDeps,
  actor: Actor,
  q: ListApprovalRequestsInput,
) {
  await deps.access.authorizeRead(actor, { action: 'ReadApprovals' });
  const rows = await listApprovalRequests(deps.db, {
    limit: q.limit,
    ...(q.status ? { status: q.status } : {}),
    ...(q.task ? { taskId: q.task } : {}),
  });
  const tasks = new Map(
    (
      await findTasks(
        deps.db,
        rows.map((r) => r.task_id),
      )
    ).map((t) => [t.id, t]),
  );
  const visible = rows.filter((r) => deps.access.wouldAllow(actor, readQuestion(tasks.get(r.task_id)!, r)));
  const views = await Promise.all(visible.map((r) => viewOf(deps, r, tasks.get(r.task_id))));
  // A pending request past its expiry is listed under its effective status.
  return q.status ? views.filter((v) => v.status === q.status) : views;
}

/**
 * For the grants domain: the approval request an agent comes back with. It must be this agent's, in
 * this task, and no longer pending; whether it was approved (and for these arguments) is for policy to
 * decide with the approvals it produced, so a denied or expired request ends in an audited 403.
 */
export async function approvalRequestForGrant(
  deps: Pick<ApprovalReadDeps, 'db' | 'clock'>,
  q: { id: string; taskId: string; requester: string },
): Promise<ApprovalRequestRow> {
  const r = await findApprovalRequest(deps.db, q.id);
  if (!r || r.task_id !== q.taskId || r.requester !== q.requester)
    throw new InvalidRequest('approval_request_id names no approval request of yours in this task');
  if (effectiveStatus(r, deps.clock.now()) === 'pending')
    throw new Conflict('the approval request is still pending: wait on its poll URL', {
      approval_request_id: r.id,
      poll: pollPath(r.id),
    });
  return r;
}
