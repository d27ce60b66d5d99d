import { randomUUID } from 'node:crypto';
import type { Access, Authorized } from '../../access/access';
import type { ScopeCatalogue } from '../../config/scope-catalogue';
import type { Db, TaskRow } from '../../db/database';
import type { Principal } from '../../identity/identity.types';
import type { Clock } from '../../shared/clock';
import { GrantlineError } from '../../shared/errors';
import {
  type ApprovalRequestService,
  type ApprovalRequestView,
  liveApprovals,
  loadTask,
  privilegedWithout,
  TaskNotFound,
  TaskNotOpen,
} from '../../tasks';
import { UnknownScope } from '../grant.errors';
import type { RequestGrantInput } from '../grant.schema';
import { decideGrant } from './decide';
import type { GrantPlan, GrantResponse } from './plan';
import { audClaim, requestedAudiences, requireTaskAudiences } from './targets';
import { grantTtl, remainingSeconds } from './ttl';

export interface DirectRequestDeps {
  db: Db;
  access: Access;
  catalogue: ScopeCatalogue;
  clock: Clock;
  ttl: { defaultSeconds: number; maxSeconds: number };
  approvalRequests: ApprovalRequestService;
  issueGrant(plan: GrantPlan): Promise<GrantResponse>;
}

/** A grant request ends in a grant (201) or, when it asked to wait, in a pending approval request (202). */
export type GrantOutcome = { issued: GrantResponse } | { pending: ApprovalRequestView };

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
  const audiences = requestedAudiences(input);
  // Only agents listed on the task learn its state; anyone else gets the policy's 403.
  const now = deps.clock.now();
  if (task.agents.includes(principal.spiffeId)) {
    if (task.status !== 'open') throw new TaskNotOpen(task.status);
    if (task.expires_at.getTime() <= now.getTime()) throw new TaskNotOpen('expired');
    requireTaskAudiences(task, audiences);
  }
  const ttlSeconds = grantTtl(input.ttl, deps.ttl, Math.max(1, remainingSeconds(task.expires_at, now)));
  return { task, scopes, audiences, ttlSeconds };
}

const toolFacts = (c: RequestGrantInput['context']) => ({
  ...(c.tool ? { tool: c.tool } : {}),
  ...(c.target ? { target: c.target } : {}),
  ...(c.intent ? { intent: c.intent } : {}),
});

function planOf(
  task: TaskRow,
  q: {
    principal: Principal;
    scopes: string[];
    audiences: string[];
    ttlSeconds: number;
    cost: number;
    input: RequestGrantInput;
  },
): Omit<GrantPlan, 'grantId' | 'allowed' | 'approvals' | 'argsDigest'> {
  const { tool, target } = q.input.context;
  return {
    task,
    delegation: null,
    holder: q.principal.spiffeId,
    chain: [q.principal.spiffeId],
    scopes: q.scopes,
    audiences: q.audiences,
    ttlSeconds: q.ttlSeconds,
    cost: q.cost,
    mayRedelegate: true,
    certThumbprint: q.principal.certThumbprint,
    constraints: {
      scopes: q.scopes,
      ttl: q.ttlSeconds,
      cost: q.cost,
      depth: 0,
      audience: audClaim(q.audiences),
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

/**
 * `"approval": "request"`: the privileged scopes without a live approval go to the approvers as one
 * request, if policy lets this agent ask (RequestApproval); undefined when nothing is missing.
 */
async function askForApproval(
  deps: DirectRequestDeps,
  principal: Principal,
  q: { task: TaskRow; scopes: string[]; audiences: string[]; ttlSeconds: number; input: RequestGrantInput },
): Promise<ApprovalRequestView | undefined> {
  const { context } = q.input;
  const live = await liveApprovals(deps.db, deps.catalogue, {
    taskId: q.task.id,
    scopes: q.scopes,
    now: deps.clock.now(),
    argsDigest: context.args_digest,
  });
  const missing = privilegedWithout(deps.catalogue, q.scopes, live);
  if (missing.length === 0) return undefined;
  const { allowed } = await decideGrant({ ...deps, now: () => deps.clock.now() }, principal, {
    action: 'RequestApproval',
    task: q.task,
    scopes: missing,
    audiences: q.audiences,
    context: { ...toolFacts(context), requestedTtl: q.ttlSeconds, delegation: { depth: 0, chain: [] } },
  });
  return deps.approvalRequests.open(allowed, {
    task: q.task,
    requester: principal.spiffeId,
    scopes: missing,
    // Shown to the approver: where the token would be accepted (audiences never contain spaces).
    audience: q.audiences.join(' '),
    tool: context.tool,
    target: context.target,
    intent: context.intent,
    argsDigest: context.args_digest!,
    argsPreview: context.args_preview,
  });
}

/** `POST /v1/tasks/:id/grants`: a grant requested directly on a task by an agent it lists. */
export async function requestGrant(
  deps: DirectRequestDeps,
  principal: Principal,
  taskId: string,
  input: RequestGrantInput,
): Promise<GrantOutcome> {
  const { task, scopes, audiences, ttlSeconds } = await validate(deps, principal, taskId, input);
  const requestId = input.approval_request_id;
  if (requestId) {
    await deps.approvalRequests.forGrant({ id: requestId, taskId, requester: principal.spiffeId });
  } else if (input.approval === 'request') {
    const pending = await askForApproval(deps, principal, { task, scopes, audiences, ttlSeconds, input });
    if (pending) return { pending };
  }
  const grantId = randomUUID();
  // Policy decides again now, with the approvals that exist now (for the request named, only its own).
  const decided = await decideGrant({ ...deps, now: () => deps.clock.now() }, principal, {
    action: 'RequestGrant',
    task,
    scopes,
    audiences,
    context: {
      ...toolFacts(input.context),
      requestedTtl: ttlSeconds,
      delegation: { depth: 0, chain: [] },
    },
    argsDigest: input.context.args_digest,
    approvalRequestId: requestId,
    grantId,
  });
  // A caller the task does not list learnt nothing before policy; one that policy admitted anyway is
  // held to the task's audiences all the same.
  await onTheRecord(deps, { allowed: decided.allowed, principal, taskId: task.id, grantId }, () =>
    requireTaskAudiences(task, audiences),
  );
  const cost = scopes.reduce((sum, s) => sum + deps.catalogue.get(s)!.cost, 0);
  const issued = await deps.issueGrant({
    ...planOf(task, { principal, scopes, audiences, ttlSeconds, cost, input }),
    grantId,
    allowed: decided.allowed,
    approvals: decided.approvals,
    argsDigest: decided.argsDigest,
  });
  return { issued };
}
