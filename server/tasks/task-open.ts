import { randomUUID } from 'node:crypto';
import type { DomainWork } from '../access/unit';
import { type ScopeCatalogue, vaultPoliciesFor } from '../config/scope-catalogue';
import type { TaskRow } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { TaskFacts } from '../policy';
import { trackHandles } from '../revocation/outbox';
import { InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { MintedToken } from '../vault';
import { CHILD_TOKEN_POLICY } from '../vault/child-token-policy';
import { TaskNotOpen } from './task.errors';
import { findTask, insertTask, recordTaskToken } from './task.repository';
import type { OpenTaskInput } from './task.schema';
import type { TaskServiceDeps } from './task.service';
import { taskView } from './task.view';
import { closeTask } from './task-close';
import { resolveTaskTargets } from './task-targets';

function checkScopes(catalogue: ScopeCatalogue, scopes: string[]) {
  const unknown = scopes.filter((s) => !catalogue.has(s));
  if (unknown.length)
    throw new InvalidRequest(`unknown scope(s): ${unknown.join(', ')}`, { unknown_scopes: unknown });
}

type Draft = TaskFacts & { targets: { audiences: string[]; delegates: string[] } };

function draftOf(deps: TaskServiceDeps, principal: Principal, input: OpenTaskInput): Draft {
  checkScopes(deps.catalogue, input.scopes);
  const ceiling = [...new Set(input.scopes)].sort();
  const targets = resolveTaskTargets(deps, {
    ceiling,
    audiences: input.audiences,
    delegates: input.delegates,
  });
  return {
    id: randomUUID(),
    owner: principal.spiffeId,
    agents: input.agents,
    audiences: targets.audiences,
    ceiling,
    status: 'open',
    taskType: input.context.task_type,
    dataSensitivity: input.context.data_sensitivity,
    riskScore: input.context.risk_score,
    targets,
  };
}

/**
 * Opens a task: policy, then the row (with no token yet), then the task's orphan Vault token, recorded on
 * the row. The row comes first so that a broker killed at any point, or a Vault that created the token
 * but never answered, leaves no token that nothing knows of: the task is there to be closed (by its
 * orchestrator, or at expiry), and closing a task whose token was never recorded finds it by the task id
 * in its metadata (revocation/unrecorded-task-token.ts). An open that fails closes its task at once.
 */
export async function openTask(
  deps: TaskServiceDeps,
  log: Logger,
  principal: Principal,
  input: OpenTaskInput,
) {
  const draft = draftOf(deps, principal, input);
  const allowed = await deps.access.authorize(
    principal,
    { action: 'OpenTask', task: draft },
    { taskId: draft.id },
  );
  const row = await deps.uow.run({}, (w) => {
    w.audit(allowed.event);
    return insertTask(w.tx, {
      id: draft.id,
      owner: principal.spiffeId,
      purpose: input.purpose,
      agents: [...new Set(input.agents)],
      scopes: draft.ceiling,
      ...draft.targets,
      context: JSON.stringify(input.context),
      ttl_seconds: input.ttl,
      ...input.limits,
      vault_token_accessor: null,
      policy_version: allowed.decision.policyVersion,
      expires_at: new Date(w.now.getTime() + input.ttl * 1000),
    });
  });
  try {
    const task = await mintTaskToken(deps, log, row, input);
    log.info({ taskId: task.id, accessor: task.vault_token_accessor }, 'task opened');
    return taskView(task, deps.clock.now());
  } catch (err) {
    await abandon(deps, row.id).catch((e: unknown) =>
      log.error(
        { taskId: row.id, err: (e as Error).message },
        'a task that failed to open stays open until closed',
      ),
    );
    throw err;
  }
}

/** The task's token, kept in custody and recorded on its row (and as a tracked handle) once it exists. */
async function mintTaskToken(deps: TaskServiceDeps, log: Logger, row: TaskRow, input: OpenTaskInput) {
  const token = await deps.vault.createOrphanToken({
    policies: [...vaultPoliciesFor(deps.catalogue, row.scopes), CHILD_TOKEN_POLICY],
    ttlSeconds: input.ttl,
    displayName: `grantline-task-${row.id.slice(0, 8)}`,
    meta: { grantline_task: row.id },
    renewable: false,
  });
  try {
    await deps.custody.keep('task', row.id, token.clientToken);
    return await deps.uow.run({ task: row.id }, (w) => recordToken(w, row, input, token));
  } catch (err) {
    await deps.vault
      .revokeTokenByAccessor(token.accessor)
      .catch((e) =>
        log.error(
          { taskId: row.id, accessor: token.accessor, err: e },
          'could not revoke the token of a task that failed to open',
        ),
      );
    throw err;
  }
}

async function recordToken(w: DomainWork, row: TaskRow, input: OpenTaskInput, token: MintedToken) {
  const task = await recordTaskToken(w.tx, row.id, token.accessor);
  // Closed meanwhile (its orchestrator listed it, or it expired): the close did not know this token.
  if (!task) throw new TaskNotOpen((await findTask(w.tx, row.id))?.status ?? 'gone');
  await trackHandles(w.tx, {
    taskId: row.id,
    grantId: null,
    handles: [{ kind: 'task_token', scope: null, accessor: token.accessor, expiresAt: row.expires_at }],
  });
  w.audit({
    type: 'task.opened',
    taskId: row.id,
    principal: row.owner,
    payload: {
      purpose: input.purpose,
      agents: row.agents,
      scopes: row.scopes,
      audiences: row.audiences,
      delegates: row.delegates,
      ttl: input.ttl,
      limits: input.limits,
      context: input.context,
      vault_token_accessor: token.accessor,
    },
  });
  return task;
}

/** Closes a task whose open failed, so it is not left open: its close revokes whatever Vault minted. */
async function abandon(deps: TaskServiceDeps, id: string): Promise<void> {
  const closed = await deps.uow.run({ task: id }, async (w) => {
    const task = await findTask(w.tx, id);
    if (task?.status !== 'open') return false;
    await closeTask(w, task, {
      reason: 'the task could not be opened (Vault or the database failed)',
      principal: null,
      finalStatus: 'closed',
      grants: deps.grants,
    });
    return true;
  });
  if (closed) await deps.onRevocationQueued();
}
