import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../audit/audit.service';
import { type ScopeCatalogue, vaultPoliciesFor } from '../config/scope-catalogue';
import type { Db, TaskRow, TaskStatus } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { TaskFacts } from '../policy';
import { buildReceipt } from '../revocation/receipt';
import { closeTaskInTx } from '../revocation/revoke-in-tx';
import type { Clock } from '../shared/clock';
import { InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { TokenCustody, VaultAdapter } from '../vault';
import { CHILD_TOKEN_POLICY } from '../vault/child-token-policy';
import type { AccessControl } from './access';
import { TaskNotFound, TaskNotOpen } from './task.errors';
import { findTask, insertApproval, insertTask, listTasks, lockTask } from './task.repository';
import type { ApprovalInput, OpenTaskInput } from './task.schema';
import { approvalView, taskView } from './task.view';

export interface TaskServiceDeps {
  db: Db;
  vault: VaultAdapter;
  custody: TokenCustody;
  access: AccessControl;
  catalogue: ScopeCatalogue;
  clock: Clock;
  logger: Logger;
  /** Called after a close commits so the revocation worker starts at once. */
  onRevocationQueued: () => void;
}

export function taskFacts(t: TaskRow): TaskFacts {
  const ctx = t.context as {
    task_type?: string;
    data_sensitivity?: 'low' | 'medium' | 'high';
    risk_score?: number;
  };
  return {
    id: t.id,
    owner: t.owner,
    agents: t.agents,
    ceiling: t.scopes,
    status: t.status,
    taskType: ctx.task_type ?? 'general',
    dataSensitivity: ctx.data_sensitivity ?? 'medium',
    riskScore: ctx.risk_score ?? 0,
  };
}

export function createTaskService(deps: TaskServiceDeps) {
  const log = deps.logger.child({ module: 'tasks' });
  const now = () => deps.clock.now();

  /**
   * Loads a task and decides `action` on it. A principal that may not even read the task gets 404, so
   * task ids do not leak; one that may read it but not act gets 403 with the policy's reasons. Denies
   * are audited here; allows are audited by the caller, inside the transaction that acts on them.
   */
  async function loadFor(principal: Principal, id: string, action: 'ReadTask' | 'CloseTask' | 'ApproveTask') {
    const task = await findTask(deps.db, id);
    if (!task) throw new TaskNotFound();
    const facts = taskFacts(task);
    const req = { action, task: facts };
    const decision = deps.access.evaluate(principal, req);
    if (!decision.allowed) {
      const mayRead =
        action !== 'ReadTask' && deps.access.evaluate(principal, { action: 'ReadTask', task: facts }).allowed;
      if (mayRead) await deps.access.refuse(principal, req, decision, { taskId: task.id });
      await deps.access.record(principal, req, decision, { taskId: task.id });
      throw new TaskNotFound();
    }
    return { task, decision, facts };
  }

  async function readable(principal: Principal, id: string) {
    const { task, decision, facts } = await loadFor(principal, id, 'ReadTask');
    await deps.access.record(principal, { action: 'ReadTask', task: facts }, decision, { taskId: id });
    return task;
  }

  function checkScopes(scopes: string[]) {
    const unknown = scopes.filter((s) => !deps.catalogue.has(s));
    if (unknown.length)
      throw new InvalidRequest(`unknown scope(s): ${unknown.join(', ')}`, { unknown_scopes: unknown });
  }

  /** Opens a task: policy, then the task's orphan Vault token, then the row (revoking the token if that fails). */
  async function open(principal: Principal, input: OpenTaskInput) {
    checkScopes(input.scopes);
    const id = randomUUID();
    const expiresAt = new Date(now().getTime() + input.ttl * 1000);
    const ceiling = [...new Set(input.scopes)].sort();
    const draft: TaskFacts = {
      id,
      owner: principal.spiffeId,
      agents: input.agents,
      ceiling,
      status: 'open',
      taskType: input.context.task_type,
      dataSensitivity: input.context.data_sensitivity,
      riskScore: input.context.risk_score,
    };
    const decision = await deps.access.require(
      principal,
      { action: 'OpenTask', task: draft },
      { taskId: id },
    );
    const token = await deps.vault.createOrphanToken({
      policies: [...vaultPoliciesFor(deps.catalogue, ceiling), CHILD_TOKEN_POLICY],
      ttlSeconds: input.ttl,
      displayName: `grantline-task-${id.slice(0, 8)}`,
      meta: { grantline_task: id },
      renewable: false,
    });
    try {
      await deps.custody.keep('task', id, token.clientToken);
      const task = await deps.db.transaction().execute(async (tx) => {
        const row = await insertTask(tx, {
          id,
          owner: principal.spiffeId,
          purpose: input.purpose,
          agents: [...new Set(input.agents)],
          scopes: ceiling,
          context: JSON.stringify(input.context),
          ttl_seconds: input.ttl,
          ...limitsOf(input),
          vault_token_accessor: token.accessor,
          policy_version: decision.policyVersion,
          expires_at: expiresAt,
        });
        await tx
          .insertInto('leases')
          .values({
            task_id: id,
            kind: 'task_token',
            vault_token_accessor: token.accessor,
            expires_at: expiresAt,
          })
          .execute();
        await deps.access.auditDecision(tx, principal, { action: 'OpenTask', task: draft }, decision, {
          taskId: id,
        });
        await appendAuditEvent(
          tx,
          {
            type: 'task.opened',
            taskId: id,
            principal: principal.spiffeId,
            payload: {
              purpose: input.purpose,
              agents: row.agents,
              scopes: ceiling,
              ttl: input.ttl,
              limits: limitsOf(input),
              context: input.context,
              vault_token_accessor: token.accessor,
            },
          },
          deps.clock,
        );
        return row;
      });
      log.info({ taskId: id, accessor: token.accessor }, 'task opened');
      return taskView(task, now());
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

  async function get(principal: Principal, id: string) {
    return taskView(await readable(principal, id), now());
  }

  async function list(principal: Principal, q: { status?: TaskStatus; limit: number }) {
    // Auditors (whoever may read the audit log) page through every task; anyone else through the tasks
    // they own, so the page is theirs and not the newest of everyone's. Policy still decides each task.
    const seesAll = deps.access.evaluate(principal, { action: 'ReadAudit' }).allowed;
    const page = await listTasks(deps.db, { ...q, ...(seesAll ? {} : { owner: principal.spiffeId }) });
    return page
      .filter((t) => deps.access.evaluate(principal, { action: 'ReadTask', task: taskFacts(t) }).allowed)
      .map((t) => taskView(t, now()));
  }

  async function approve(principal: Principal, id: string, input: ApprovalInput) {
    const { task, decision, facts } = await loadFor(principal, id, 'ApproveTask');
    if (!task.scopes.includes(input.scope))
      throw new InvalidRequest(`scope ${input.scope} is not in the task's ceiling`);
    if (task.status !== 'open') throw new TaskNotOpen(task.status);
    const approval = await deps.db.transaction().execute(async (tx) => {
      const row = await insertApproval(tx, {
        task_id: task.id,
        scope: input.scope,
        approver: input.approver,
        note: input.note ?? null,
        recorded_by: principal.spiffeId,
        single_use: input.single_use,
        args_digest: input.args_digest ?? null,
        expires_at: new Date(now().getTime() + input.ttl * 1000),
      });
      await deps.access.auditDecision(tx, principal, { action: 'ApproveTask', task: facts }, decision, {
        taskId: task.id,
      });
      await appendAuditEvent(
        tx,
        {
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
        },
        deps.clock,
      );
      return row;
    });
    return approvalView(approval);
  }

  /** Close is idempotent: closing a closing or closed task returns its receipt and changes nothing. */
  async function close(principal: Principal, id: string, reason: string) {
    const { decision, facts } = await loadFor(principal, id, 'CloseTask');
    const closedNow = await deps.db.transaction().execute(async (tx) => {
      const task = await lockTask(tx, id);
      if (task?.status !== 'open') return false;
      await closeTaskInTx(tx, task, {
        reason,
        now: now(),
        principal: principal.spiffeId,
        finalStatus: 'closed',
      });
      // Audit last: the audit head lock must never be held while waiting for a grant row (db/locks.ts).
      await deps.access.auditDecision(tx, principal, { action: 'CloseTask', task: facts }, decision, {
        taskId: id,
      });
      return true;
    });
    if (closedNow) {
      log.info({ taskId: id }, 'task closing');
      deps.onRevocationQueued();
    }
    return buildReceipt(deps.db, id);
  }

  async function receipt(principal: Principal, id: string) {
    await readable(principal, id);
    return buildReceipt(deps.db, id);
  }

  return { open, get, list, approve, close, receipt, loadFor, readable };
}

function limitsOf(input: OpenTaskInput) {
  const l = input.limits;
  return {
    max_grants: l.max_grants,
    max_active: l.max_active,
    max_depth: l.max_depth,
    max_fanout: l.max_fanout,
    budget: l.budget,
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
