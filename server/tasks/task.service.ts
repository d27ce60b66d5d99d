import { accessDenied } from '../access/access';
import type { TaskStatus } from '../db/database';
import { type Actor, actorId } from '../identity/human';
import type { Principal } from '../identity/identity.types';
import type { PolicyAction } from '../policy';
import { buildReceipt } from '../revocation/receipt';
import { type GrantlineError, InvalidRequest } from '../shared/errors';
import { insertApproval } from './approval.repository';
import { approvalRecordedEvent, deciderOf } from './approval-decider';
import { TaskNotFound, TaskNotOpen } from './task.errors';
import { findTask, listTasks } from './task.repository';
import type { ApprovalInput, OpenTaskInput } from './task.schema';
import { approvalView, taskView } from './task.view';
import { closeTask } from './task-close';
import { taskFacts } from './task-facts';
import { openTask } from './task-open';
import type { TaskServiceDeps } from './task-service.deps';

export type { TaskServiceDeps } from './task-service.deps';

type TaskAction = Extract<PolicyAction, 'ReadTask' | 'CloseTask' | 'ApproveTask' | 'ReadLineage'>;
const READS: TaskAction[] = ['ReadTask', 'ReadLineage'];

/**
 * Loads a task and authorises `action` on it. A principal that may not even read the task gets 404, so
 * task ids do not leak; one that may read it but not act gets 403 with the policy's reasons. The decision
 * is on the record either way; an allow comes back for the unit of work that acts on it.
 */
export async function authorizeOnTask(
  deps: Pick<TaskServiceDeps, 'db' | 'access'>,
  principal: Actor,
  id: string,
  action: TaskAction,
  opts: { grantId?: string; notFound?: () => GrantlineError } = {},
) {
  const notFound = opts.notFound ?? (() => new TaskNotFound());
  const task = await findTask(deps.db, id);
  if (!task) throw notFound();
  const facts = taskFacts(task);
  // An approver sees a task's approvals without reading the task: a refused approval is 403 for it too.
  const mayRead = () =>
    deps.access.wouldAllow(principal, { action: 'ReadTask', task: facts }) ||
    (action === 'ApproveTask' && deps.access.wouldAllow(principal, { action: 'ReadApprovals', task: facts }));
  const allowed = await deps.access.authorize(
    principal,
    { action, task: facts },
    { taskId: id, ...(opts.grantId ? { grantId: opts.grantId } : {}) },
    { deniedAs: (d) => (!READS.includes(action) && mayRead() ? accessDenied(action, d) : notFound()) },
  );
  return { task, facts, allowed };
}

export function createTaskService(deps: TaskServiceDeps) {
  const log = deps.logger.child({ module: 'tasks' });
  const now = () => deps.clock.now();

  async function readable(principal: Actor, id: string) {
    const { task, allowed } = await authorizeOnTask(deps, principal, id, 'ReadTask');
    await deps.access.recordAllowed(allowed);
    return task;
  }

  return {
    open: (principal: Principal, input: OpenTaskInput) => openTask(deps, log, principal, input),

    async get(principal: Actor, id: string) {
      return taskView(await readable(principal, id), now());
    },

    /**
     * Auditors (whoever may read the audit log) page through every task; anyone else through the tasks
     * they own, so the page is theirs and not the newest of everyone's. Policy still filters each task.
     */
    async list(principal: Actor, q: { status?: TaskStatus; limit: number }) {
      const seesAll = deps.access.wouldAllow(principal, { action: 'ReadAudit' });
      const page = await listTasks(deps.db, { ...q, ...(seesAll ? {} : { owner: actorId(principal) }) });
      return page
        .filter((t) => deps.access.wouldAllow(principal, { action: 'ReadTask', task: taskFacts(t) }))
        .map((t) => taskView(t, now()));
    },

    approve: (principal: Principal, id: string, input: ApprovalInput) => approve(deps, principal, id, input),

    /** Close is idempotent: closing a closing or closed task returns its receipt and changes nothing. */
    async close(principal: Principal, id: string, reason: string) {
      const { allowed } = await authorizeOnTask(deps, principal, id, 'CloseTask');
      const closedNow = await deps.uow.run({ task: id }, async (w) => {
        const task = (await findTask(w.tx, id))!;
        w.audit(allowed.event);
        if (task.status !== 'open') return false;
        await closeTask(w, task, {
          reason,
          principal: principal.spiffeId,
          finalStatus: 'closed',
          grants: deps.grants,
        });
        return true;
      });
      if (!closedNow) return receiptOf(deps, id);
      log.info({ taskId: id }, 'task closing');
      // The answer waits for the feed to be numbered (resource servers can hear of every revocation once
      // close returns); the receipt reads nothing the numbering writes, so both run at once.
      const [, receipt] = await Promise.all([deps.onRevocationQueued(), receiptOf(deps, id)]);
      return receipt;
    },

    async receipt(principal: Actor, id: string) {
      await readable(principal, id);
      return receiptOf(deps, id);
    },
  };
}

async function receiptOf(deps: TaskServiceDeps, id: string) {
  const [task, grants] = await Promise.all([findTask(deps.db, id), deps.grants.listOfTask(deps.db, id)]);
  return buildReceipt(deps.db, task!, grants);
}

async function approve(deps: TaskServiceDeps, principal: Principal, id: string, input: ApprovalInput) {
  const { task, allowed } = await authorizeOnTask(deps, principal, id, 'ApproveTask');
  if (!task.scopes.includes(input.scope))
    throw new InvalidRequest(`scope ${input.scope} is not in the task's ceiling`);
  if (task.status !== 'open') throw new TaskNotOpen(task.status);
  // An approver workload records the consent of the person it speaks for (`approver`); its own SVID is
  // the verified identity on the record.
  const by = deciderOf(principal, deps.trustDomain, input.approver);
  const approval = await deps.uow.run({}, async (w) => {
    const row = await insertApproval(w.tx, {
      task_id: task.id,
      scope: input.scope,
      approver: input.approver,
      approver_kind: by.kind,
      approver_issuer: by.issuer,
      approver_subject: by.subject,
      note: input.note ?? null,
      recorded_by: principal.spiffeId,
      single_use: input.single_use,
      args_digest: input.args_digest ?? null,
      expires_at: new Date(w.now.getTime() + input.ttl * 1000),
    });
    w.audit(allowed.event, approvalRecordedEvent(row, by));
    return row;
  });
  return approvalView(approval);
}

export type TaskService = ReturnType<typeof createTaskService>;
