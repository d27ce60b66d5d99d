import type { Authorized } from '../access/access';
import type { Actor } from '../identity/human';
import { listApprovalsOfRequest } from './approval.repository';
import { createApprovalChanges } from './approval-changes';
import { expireApprovalRequests } from './approval-request.expiry';
import {
  approvalRequestForGrant,
  listApprovalRequestsFor,
  readApprovalRequest,
} from './approval-request.reads';
import type { ListApprovalRequestsInput } from './approval-request.schema';
import { approvalRequestView } from './approval-request.view';
import {
  type ApprovalRequestDeps,
  type Decision,
  decideApprovalRequest,
  type NewApprovalRequest,
  openApprovalRequest,
} from './approval-requests';
import { findTask } from './task.repository';

export type ApprovalRequestServiceDeps = Omit<ApprovalRequestDeps, 'changes'>;

/**
 * Asynchronous approval (the CIBA pattern): an agent's privileged request waits here until an approver
 * (a person in the console, or an /approver/ workload) approves or denies it; the agent long-polls.
 */
export function createApprovalRequestService(base: ApprovalRequestServiceDeps) {
  const deps: ApprovalRequestDeps = { ...base, changes: createApprovalChanges() };

  async function present(row: Awaited<ReturnType<typeof openApprovalRequest>>) {
    const task = await findTask(deps.db, row.task_id);
    const approvals = row.status === 'approved' ? await listApprovalsOfRequest(deps.db, row.id) : [];
    return approvalRequestView(row, { task, approvals, now: deps.clock.now() });
  }

  return {
    /** Files the request policy allowed (RequestApproval); the agent's 202. */
    open: async (allowed: Authorized, q: NewApprovalRequest) =>
      present(await openApprovalRequest(deps, allowed, q)),
    decide: async (actor: Actor, id: string, input: Decision) =>
      present(await decideApprovalRequest(deps, actor, id, input)),
    read: (actor: Actor, id: string, opts: { waitSeconds?: number | undefined; signal?: AbortSignal } = {}) =>
      readApprovalRequest(deps, actor, id, opts),
    list: (actor: Actor, q: ListApprovalRequestsInput) => listApprovalRequestsFor(deps, actor, q),
    /** The request an agent's repeated grant request names (see approvalRequestForGrant). */
    forGrant: (q: { id: string; taskId: string; requester: string }) => approvalRequestForGrant(deps, q),
    expire: (now: Date) => expireApprovalRequests(deps, now),
  };
}

export type ApprovalRequestService = ReturnType<typeof createApprovalRequestService>;
