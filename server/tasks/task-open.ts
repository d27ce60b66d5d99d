import { randomUUID } from 'node:crypto';
import type { DomainWork } from '../access/unit';
import { type ScopeCatalogue, vaultPoliciesFor } from '../config/scope-catalogue';
import type { TaskRow } from '../db/database';
import type { Principal } from '../identity/identity.types';
import type { TaskFacts } from '../policy';
import { trackHandles } from '../revocation/outbox';
import { InvalidRequest } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { type MintedToken, VaultDenied, VaultNotFound, VaultRequestError, VaultUnavailable } from '../vault';
import { CHILD_TOKEN_POLICY } from '../vault/child-token-policy';
import { TaskNotOpen } from './task.errors';
import { findTask, insertTask, recordTaskToken } from './task.repository';
import type { OpenTaskInput } from './task.schema';
import { taskView } from './task.view';
import { closeTask } from './task-close';
import type { TaskServiceDeps } from './task-service.deps';
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
      max_actions: input.limits.max_actions ?? null,
      vault_token_accessor: null,
      policy_version: allowed.decision.policyVersion,
      expires_at: new Date(w.now.getTime() + input.ttl * 1000),
    });
  });
  const token = await createTaskToken(deps, row, input.ttl).catch(async (err: unknown) => {
    await abandon(deps, log, row.id, vaultCreatedNothing(err) ? { kind: 'none' } : { kind: 'unknown' });
    throw err;
  });
  try {
    await deps.custody.keep('task', row.id, token.clientToken);
    const task = await deps.uow.run({ task: row.id }, async (w) => {
      const recorded = await recordToken(w, row, token);
      // Closed meanwhile (its orchestrator listed it, or it expired): that close did not know this token.
      if (!recorded) throw new TaskNotOpen((await findTask(w.tx, row.id))?.status ?? 'gone');
      w.audit(openedEvent(recorded, input));
      return recorded;
    });
    log.info({ taskId: task.id, accessor: token.accessor }, 'task opened');
    return taskView(task, deps.clock.now());
  } catch (err) {
    await deps.vault
      .revokeTokenByAccessor(token.accessor)
      .catch((e) =>
        log.error(
          { taskId: row.id, accessor: token.accessor, err: e },
          'could not revoke the token of a task that failed to open',
        ),
      );
    await abandon(deps, log, row.id, { kind: 'token', token });
    throw err;
  }
}

const createTaskToken = (deps: TaskServiceDeps, row: TaskRow, ttlSeconds: number) =>
  deps.vault.createOrphanToken({
    policies: [...vaultPoliciesFor(deps.catalogue, row.scopes), CHILD_TOKEN_POLICY],
    ttlSeconds,
    displayName: `grantline-task-${row.id.slice(0, 8)}`,
    meta: { grantline_task: row.id },
    renewable: false,
  });

/**
 * Vault refused the call, or was never reached (or was sealed, or asked us to come back later): it created
 * no token. A timeout, a 500 or an answer of the wrong shape leave that open.
 */
function vaultCreatedNothing(err: unknown): boolean {
  if (err instanceof VaultDenied || err instanceof VaultNotFound || err instanceof VaultRequestError)
    return true;
  if (!(err instanceof VaultUnavailable)) return false;
  if (err.vaultStatus !== undefined) return [412, 429, 503].includes(err.vaultStatus);
  return ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(
    String(err.details?.reason),
  );
}

/** The token on the row and as a tracked handle; undefined when the task is no longer open. */
async function recordToken(w: DomainWork, row: TaskRow, token: MintedToken) {
  const task = await recordTaskToken(w.tx, row.id, token.accessor);
  if (!task) return undefined;
  await trackHandles(w.tx, {
    taskId: row.id,
    grantId: null,
    handles: [{ kind: 'task_token', scope: null, accessor: token.accessor, expiresAt: row.expires_at }],
  });
  return task;
}

function openedEvent(task: TaskRow, input: OpenTaskInput) {
  return {
    type: 'task.opened',
    taskId: task.id,
    principal: task.owner,
    payload: {
      purpose: input.purpose,
      agents: task.agents,
      scopes: task.scopes,
      audiences: task.audiences,
      delegates: task.delegates,
      ttl: input.ttl,
      limits: input.limits,
      context: input.context,
      vault_token_accessor: task.vault_token_accessor,
    },
  };
}

type Minted = { kind: 'none' } | { kind: 'unknown' } | { kind: 'token'; token: MintedToken };

/**
 * Closes a task whose open failed, so it is not left open. A token that exists is recorded first, so the
 * close revokes it by its accessor; one that may exist is found by the close; with none, nothing is queued.
 * If the database is down too, the task stays open (with no token recorded) until it is closed or expires.
 */
async function abandon(deps: TaskServiceDeps, log: Logger, id: string, minted: Minted): Promise<void> {
  const queued = await deps.uow
    .run({ task: id }, async (w) => {
      const open = await findTask(w.tx, id);
      if (open?.status !== 'open') return false;
      const task = minted.kind === 'token' ? ((await recordToken(w, open, minted.token)) ?? open) : open;
      await closeTask(w, task, {
        reason: 'the task could not be opened (Vault or the database failed)',
        principal: null,
        finalStatus: 'closed',
        grants: deps.grants,
        nothingMinted: minted.kind === 'none',
      });
      return minted.kind !== 'none';
    })
    .catch((err: unknown) => {
      log.error(
        { taskId: id, err: (err as Error).message },
        'a task that failed to open stays open until closed',
      );
      return false;
    });
  if (queued) await deps.onRevocationQueued();
}
