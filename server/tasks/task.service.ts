import { randomUUID } from 'node:crypto';
import { type Access, accessDenied } from '../access/access';
import type { DomainUnitOfWork } from '../access/unit';
import { type ScopeCatalogue, vaultPoliciesFor } from '../config/scope-catalogue';
import type { Db, TaskStatus } from '../db/database';
import { type Actor, actorId } from '../identity/human';
import type { Principal } from '../identity/identity.types';
import type { PolicyAction, TaskFacts } from '../policy';
import { trackHandles } from '../revocation/outbox';
import { buildReceipt, type GrantSummary } from '../revocation/receipt';
import type { Clock } from '../shared/clock';
import { type GrantlineError, InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { MintedToken, TokenCustody, VaultAdapter } from '../vault';
import { CHILD_TOKEN_POLICY } from '../vault/child-token-policy';
import { insertApproval } from './approval.repository';
import { approvalRecordedEvent, deciderOf } from './approval-decider';
import { TaskNotFound, TaskNotOpen } from './task.errors';
import { findTask, insertTask, listTasks } from './task.repository';
import type { ApprovalInput, OpenTaskInput } from './task.schema';
import { approvalView, taskView } from './task.view';
import { closeTask, type GrantsOfTask } from './task-close';
import { taskFacts } from './task-facts';
import { resolveTaskTargets } from './task-targets';

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
      if (closedNow) {
        log.info({ taskId: id }, 'task closing');
        await deps.onRevocationQueued();
      }
      return receiptOf(deps, id);
    },

    async receipt(principal: Actor, id: string) {
      await readable(principal, id);
      return receiptOf(deps, id);
    },
  };
}

async function receiptOf(deps: TaskServiceDeps, id: string) {
  const task = (await findTask(deps.db, id))!;
  return buildReceipt(deps.db, task, await deps.grants.listOfTask(deps.db, id));
}

function checkScopes(catalogue: ScopeCatalogue, scopes: string[]) {
  const unknown = scopes.filter((s) => !catalogue.has(s));
  if (unknown.length)
    throw new InvalidRequest(`unknown scope(s): ${unknown.join(', ')}`, { unknown_scopes: unknown });
}

/** Opens a task: policy, then the task's orphan Vault token, then the row (revoking the token if that fails). */
async function openTask(deps: TaskServiceDeps, log: Logger, principal: Principal, input: OpenTaskInput) {
  checkScopes(deps.catalogue, input.scopes);
  const id = randomUUID();
  const ceiling = [...new Set(input.scopes)].sort();
  const targets = resolveTaskTargets(deps, {
    ceiling,
    audiences: input.audiences,
    delegates: input.delegates,
  });
  const draft: TaskFacts = {
    id,
    owner: principal.spiffeId,
    agents: input.agents,
    audiences: targets.audiences,
    ceiling,
    status: 'open',
    taskType: input.context.task_type,
    dataSensitivity: input.context.data_sensitivity,
    riskScore: input.context.risk_score,
  };
  const allowed = await deps.access.authorize(principal, { action: 'OpenTask', task: draft }, { taskId: id });
  const token = await deps.vault.createOrphanToken({
    policies: [...vaultPoliciesFor(deps.catalogue, ceiling), CHILD_TOKEN_POLICY],
    ttlSeconds: input.ttl,
    displayName: `grantline-task-${id.slice(0, 8)}`,
    meta: { grantline_task: id },
    renewable: false,
  });
  try {
    await deps.custody.keep('task', id, token.clientToken);
    const task = await deps.uow.run({}, (w) => {
      w.audit(allowed.event);
      return insertOpenTask(w, {
        id,
        principal,
        input,
        ceiling,
        targets,
        token,
        policyVersion: allowed.decision.policyVersion,
      });
    });
    log.info({ taskId: id, accessor: token.accessor }, 'task opened');
    return taskView(task, deps.clock.now());
  } catch (err) {
    await deps.vault
      .revokeTokenByAccessor(token.accessor)
      .catch((e) =>
        log.error(
          { taskId: id, accessor: token.accessor, err: e },
          'could not revoke the token of a task that failed to open',
        ),
      );
    throw err;
  }
}

async function insertOpenTask(
  w: Parameters<Parameters<DomainUnitOfWork['run']>[1]>[0],
  q: {
    id: string;
    principal: Principal;
    input: OpenTaskInput;
    ceiling: string[];
    targets: { audiences: string[]; delegates: string[] };
    token: MintedToken;
    policyVersion: string;
  },
) {
  const expiresAt = new Date(w.now.getTime() + q.input.ttl * 1000);
  const limits = q.input.limits;
  const row = await insertTask(w.tx, {
    id: q.id,
    owner: q.principal.spiffeId,
    purpose: q.input.purpose,
    agents: [...new Set(q.input.agents)],
    scopes: q.ceiling,
    ...q.targets,
    context: JSON.stringify(q.input.context),
    ttl_seconds: q.input.ttl,
    ...limits,
    max_actions: limits.max_actions ?? null,
    vault_token_accessor: q.token.accessor,
    policy_version: q.policyVersion,
    expires_at: expiresAt,
  });
  await trackHandles(w.tx, {
    taskId: q.id,
    grantId: null,
    handles: [{ kind: 'task_token', scope: null, accessor: q.token.accessor, expiresAt }],
  });
  w.audit({
    type: 'task.opened',
    taskId: q.id,
    principal: q.principal.spiffeId,
    payload: {
      purpose: q.input.purpose,
      agents: row.agents,
      scopes: q.ceiling,
      ...q.targets,
      ttl: q.input.ttl,
      limits,
      context: q.input.context,
      vault_token_accessor: q.token.accessor,
    },
  });
  return row;
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
