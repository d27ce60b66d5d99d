import { type Access, accessDenied } from '../access/access';
import type { DomainUnitOfWork } from '../access/unit';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db, TaskStatus } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { PolicyAction } from '../policy';
import { buildReceipt, type GrantSummary } from '../revocation/receipt';
import type { Clock } from '../shared/clock';
import { type GrantlineError, InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { TokenCustody, VaultAdapter } from '../vault';
import { insertApproval } from './approval.repository';
import { TaskNotFound, TaskNotOpen } from './task.errors';
import { findTask, listTasks } from './task.repository';
import type { ApprovalInput, OpenTaskInput } from './task.schema';
import { approvalView, taskView } from './task.view';
import { closeTask, type GrantsOfTask } from './task-close';
import { taskFacts } from './task-facts';
import { openTask } from './task-open';

export interface TaskServiceDeps {
  db: Db;
  uow: DomainUnitOfWork;
  vault: VaultAdapter;
  custody: TokenCustody;
  access: Access;
  catalogue: ScopeCatalogue;
  /** The broker's own trust domain: delegate wildcards may only cover its paths. */
  trustDomain: string;
  clock: Clock;
  logger: Logger;
  /** The grants domain, for close and receipts (handed in at composition: tasks never import grants). */
  grants: GrantsOfTask & { listOfTask(db: Db, taskId: string): Promise<GrantSummary[]> };
  /** Called after a close commits so the revocation worker starts at once. */
  onRevocationQueued: () => Promise<void> | void;
}

type TaskAction = Extract<PolicyAction, 'ReadTask' | 'CloseTask' | 'ApproveTask' | 'ReadLineage'>;
const READS: TaskAction[] = ['ReadTask', 'ReadLineage'];

/**
 * Loads a task and authorises `action` on it. A principal that may not even read the task gets 404, so
 * task ids do not leak; one that may read it but not act gets 403 with the policy's reasons. The decision
 * is on the record either way; an allow comes back for the unit of work that acts on it.
 */
export async function authorizeOnTask(
  deps: Pick<TaskServiceDeps, 'db' | 'access'>,
  principal: Principal,
  id: string,
  action: TaskAction,
  opts: { grantId?: string; notFound?: () => GrantlineError } = {},
) {
  const notFound = opts.notFound ?? (() => new TaskNotFound());
  const task = await findTask(deps.db, id);
  if (!task) throw notFound();
  const facts = taskFacts(task);
  const mayRead = () => deps.access.wouldAllow(principal, { action: 'ReadTask', task: facts });
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

  async function readable(principal: Principal, id: string) {
    const { task, allowed } = await authorizeOnTask(deps, principal, id, 'ReadTask');
    await deps.access.recordAllowed(allowed);
    return task;
  }

  return {
    open: (principal: Principal, input: OpenTaskInput) => openTask(deps, log, principal, input),

    async get(principal: Principal, id: string) {
      return taskView(await readable(principal, id), now());
    },

    /**
     * Auditors (whoever may read the audit log) page through every task; anyone else through the tasks
     * they own, so the page is theirs and not the newest of everyone's. Policy still filters each task.
     */
    async list(principal: Principal, q: { status?: TaskStatus; limit: number }) {
      const seesAll = deps.access.wouldAllow(principal, { action: 'ReadAudit' });
      const page = await listTasks(deps.db, { ...q, ...(seesAll ? {} : { owner: principal.spiffeId }) });
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
      if (closedNow) {
        log.info({ taskId: id }, 'task closing');
        await deps.onRevocationQueued();
      }
      return receiptOf(deps, id);
    },

    async receipt(principal: Principal, id: string) {
      await readable(principal, id);
      return receiptOf(deps, id);
    },
  };
}

async function receiptOf(deps: TaskServiceDeps, id: string) {
  const task = (await findTask(deps.db, id))!;
  return buildReceipt(deps.db, task, await deps.grants.listOfTask(deps.db, id));
}

async function approve(deps: TaskServiceDeps, principal: Principal, id: string, input: ApprovalInput) {
  const { task, allowed } = await authorizeOnTask(deps, principal, id, 'ApproveTask');
  if (!task.scopes.includes(input.scope))
    throw new InvalidRequest(`scope ${input.scope} is not in the task's ceiling`);
  if (task.status !== 'open') throw new TaskNotOpen(task.status);
  const approval = await deps.uow.run({}, async (w) => {
    const row = await insertApproval(w.tx, {
      task_id: task.id,
      scope: input.scope,
      approver: input.approver,
      note: input.note ?? null,
      recorded_by: principal.spiffeId,
      single_use: input.single_use,
      args_digest: input.args_digest ?? null,
      expires_at: new Date(w.now.getTime() + input.ttl * 1000),
    });
    w.audit(allowed.event, {
      type: 'approval.recorded',
      taskId: task.id,
      principal: principal.spiffeId,
      payload: {
        approval_id: row.id,
        scope: row.scope,
        approver: row.approver,
        expires_at: row.expires_at.toISOString(),
        single_use: row.single_use,
        args_digest: row.args_digest,
        note: row.note,
      },
    });
    return row;
  });
  return approvalView(approval);
}

export type TaskService = ReturnType<typeof createTaskService>;
