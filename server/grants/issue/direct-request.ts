import { randomUUID } from 'node:crypto';
import type { Access, Authorized } from '../../access/access';
import type { ScopeCatalogue } from '../../config/scope-catalogue';
import type { Db, TaskRow } from '../../db/database';
import type { Principal } from '../../identity/identity.types';
import type { Clock } from '../../shared/clock';
import { GrantlineError, InvalidTarget } from '../../shared/errors';
import { loadTask, TaskNotFound, TaskNotOpen } from '../../tasks';
import { UnknownScope } from '../grant.errors';
import type { RequestGrantInput } from '../grant.schema';
import { decideGrant } from './decide';
import type { GrantPlan, GrantResponse } from './plan';
import { grantTtl, remainingSeconds } from './ttl';

export interface DirectRequestDeps {
  db: Db;
  access: Access;
  catalogue: ScopeCatalogue;
  clock: Clock;
  ttl: { defaultSeconds: number; maxSeconds: number };
  issueGrant(plan: GrantPlan): Promise<GrantResponse>;
}

/** Validate: the task exists, the scopes are known, and (for agents it lists) it can still issue. */
async function validate(
  deps: DirectRequestDeps,
  principal: Principal,
  taskId: string,
  input: RequestGrantInput,
) {
  const task = await loadTask(deps.db, taskId);
  if (!task) throw new TaskNotFound();
  const scopes = [...new Set(input.scopes)].sort();
  const unknown = scopes.filter((s) => !deps.catalogue.has(s));
  if (unknown.length) throw new UnknownScope(unknown);
  // Only agents listed on the task learn its state; anyone else gets the policy's 403.
  const now = deps.clock.now();
  if (task.agents.includes(principal.spiffeId)) {
    if (task.status !== 'open') throw new TaskNotOpen(task.status);
    if (task.expires_at.getTime() <= now.getTime()) throw new TaskNotOpen('expired');
    requireTaskAudience(task, input.audience);
  }
  const ttlSeconds = grantTtl(input.ttl, deps.ttl, Math.max(1, remainingSeconds(task.expires_at, now)));
  return { task, scopes, ttlSeconds };
}

/** RFC 8707 §2 / RFC 8693 §2.2.2: an audience the task did not declare is `invalid_target`. */
function requireTaskAudience(task: TaskRow, audience: string): void {
  if (!task.audiences.includes(audience))
    throw new InvalidTarget(`the audience ${audience} is not among the task's audiences`, {
      audiences: task.audiences,
    });
}

const toolFacts = (c: RequestGrantInput['context']) => ({
  ...(c.tool ? { tool: c.tool } : {}),
  ...(c.target ? { target: c.target } : {}),
  ...(c.intent ? { intent: c.intent } : {}),
});

function planOf(
  task: TaskRow,
  q: { principal: Principal; scopes: string[]; ttlSeconds: number; cost: number; input: RequestGrantInput },
): Omit<GrantPlan, 'grantId' | 'allowed' | 'approvals' | 'argsDigest'> {
  const { tool, target } = q.input.context;
  return {
    task,
    delegation: null,
    holder: q.principal.spiffeId,
    chain: [q.principal.spiffeId],
    scopes: q.scopes,
    audience: q.input.audience,
    ttlSeconds: q.ttlSeconds,
    cost: q.cost,
    mayRedelegate: true,
    certThumbprint: q.principal.certThumbprint,
    constraints: {
      scopes: q.scopes,
      ttl: q.ttlSeconds,
      cost: q.cost,
      depth: 0,
      audience: q.input.audience,
      ...(tool ? { tool } : {}),
      ...(target ? { target } : {}),
    },
  };
}

/** Runs a check after policy allowed; a refusal goes on the record with the allow, as a limit's would. */
async function onTheRecord(
  deps: DirectRequestDeps,
  q: { allowed: Authorized; principal: Principal; taskId: string; grantId: string },
  check: () => void,
): Promise<void> {
  try {
    check();
  } catch (err) {
    if (!(err instanceof GrantlineError)) throw err;
    await deps.access.recordRefusal(q.allowed, {
      type: 'grant.refused',
      taskId: q.taskId,
      grantId: q.grantId,
      principal: q.principal.spiffeId,
      payload: { error: err.code, reason: err.message },
    });
    throw err;
  }
}

/** `POST /v1/tasks/:id/grants`: a grant requested directly on a task by an agent it lists. */
export async function requestGrant(
  deps: DirectRequestDeps,
  principal: Principal,
  taskId: string,
  input: RequestGrantInput,
): Promise<GrantResponse> {
  const { task, scopes, ttlSeconds } = await validate(deps, principal, taskId, input);
  const grantId = randomUUID();
  const decided = await decideGrant({ ...deps, now: () => deps.clock.now() }, principal, {
    action: 'RequestGrant',
    task,
    scopes,
    context: {
      ...toolFacts(input.context),
      requestedTtl: ttlSeconds,
      audience: input.audience,
      delegation: { depth: 0, chain: [] },
    },
    argsDigest: input.context.args_digest,
    grantId,
  });
  // A caller the task does not list learnt nothing before policy; one that policy admitted anyway is
  // held to the task's audiences all the same.
  await onTheRecord(deps, { allowed: decided.allowed, principal, taskId: task.id, grantId }, () =>
    requireTaskAudience(task, input.audience),
  );
  const cost = scopes.reduce((sum, s) => sum + deps.catalogue.get(s)!.cost, 0);
  return deps.issueGrant({
    ...planOf(task, { principal, scopes, ttlSeconds, cost, input }),
    grantId,
    allowed: decided.allowed,
    approvals: decided.approvals,
    argsDigest: decided.argsDigest,
  });
}
