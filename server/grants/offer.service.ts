import { randomUUID } from 'node:crypto';
import type { Access, Authorized } from '../access/access';
import type { DomainUnitOfWork } from '../access/unit';
import type { AuditEventInput } from '../audit/audit.types';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db, GrantRow, TaskRow } from '../db/database';
import type { Principal } from '../identity';
import type { Clock } from '../shared/clock';
import { AccessDenied, Conflict, GrantlineError, InvalidRequest, QuotaExceeded } from '../shared/errors';
import { loadTask, requireAdmitted, TaskNotOpen } from '../tasks';
import type { TokenIssuer } from '../tokens/access-token';
import { reserveActionsForOffer } from './actions';
import { reserveForOffer } from './budget';
import type { OfferDelegationInput } from './delegation.schema';
import { GrantNotFound } from './grant.errors';
import { findGrant } from './grant.repository';
import { decideGrant } from './issue/decide';
import { grantTtl, remainingSeconds } from './issue/ttl';
import { narrowScopes } from './narrow';
import { insertOffer } from './offer.repository';

/** An unredeemed offer is short-lived whatever TTL the delegated grant will have. */
const OFFER_LIFETIME_SECONDS = 300;

export interface OfferDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
  catalogue: ScopeCatalogue;
  tokens: TokenIssuer;
  clock: Clock;
}

interface Hop {
  task: TaskRow;
  parent: GrantRow;
  scopes: string[];
  ttl: number;
}

/** Validate: the parent can still delegate, scopes narrow, depth and TTL fit (each refusal a clear 4xx). */
async function validate(
  deps: OfferDeps,
  principal: Principal,
  parent: GrantRow,
  input: OfferDelegationInput,
) {
  const task = (await loadTask(deps.db, parent.task_id))!;
  const now = deps.clock.now();
  if (task.status !== 'open') throw new TaskNotOpen(task.status);
  if (parent.status !== 'active' || parent.expires_at <= now)
    throw new Conflict(`the grant is ${parent.status === 'active' ? 'expired' : parent.status}`);
  if (!parent.may_redelegate)
    throw new AccessDenied('this grant may not be delegated further (may_redelegate is false)', {
      reasons: ['may_redelegate is false'],
    });
  if (input.to === principal.spiffeId)
    throw new InvalidRequest('a grant cannot be delegated to its own holder');
  const scopes = narrowScopes(input.scopes, parent.scopes, 'a delegation');
  if (parent.depth + 1 > task.max_depth)
    throw new QuotaExceeded(
      'max_depth',
      `delegating would reach depth ${parent.depth + 1}, the task allows ${task.max_depth}`,
    );
  const parentLeft = remainingSeconds(parent.expires_at, now);
  if (parentLeft < 1) throw new Conflict('the grant expires too soon to be delegated');
  const ttl = grantTtl(input.ttl, { defaultSeconds: parentLeft, maxSeconds: 86400 }, parentLeft);
  requireAdmitted(task, input.to);
  return { task, parent, scopes, ttl };
}

/** Reserve: a fan-out slot and the budget from the parent's pool, and the offer row, in one unit. */
async function reserve(
  deps: OfferDeps,
  principal: Principal,
  q: { hop: Hop; input: OfferDelegationInput; allowed: Authorized; offerId: string; expiresAt: Date },
): Promise<void> {
  const { task, parent, scopes, ttl } = q.hop;
  await deps.uow.run({ task: task.id }, async (w) => {
    await reserveForOffer(w.tx, { parent, budget: q.input.budget, maxFanout: task.max_fanout });
    if (q.input.actions !== undefined)
      await reserveActionsForOffer(w.tx, { parent, actions: q.input.actions });
    await insertOffer(w.tx, {
      id: q.offerId,
      task_id: task.id,
      parent_grant_id: parent.id,
      from_holder: principal.spiffeId,
      to_holder: q.input.to,
      scopes,
      ttl_seconds: ttl,
      budget: q.input.budget,
      actions: q.input.actions ?? null,
      may_redelegate: q.input.may_redelegate,
      policy_ids: q.allowed.decision.policyIds,
      policy_version: q.allowed.decision.policyVersion,
      expires_at: q.expiresAt,
    });
    w.audit(q.allowed.event, {
      type: 'delegation.offered',
      taskId: task.id,
      grantId: parent.id,
      principal: principal.spiffeId,
      payload: {
        offer_id: q.offerId,
        to: q.input.to,
        scopes,
        ttl,
        budget: q.input.budget,
        actions: q.input.actions ?? null,
        may_redelegate: q.input.may_redelegate,
        depth: parent.depth + 1,
        expires_at: q.expiresAt.toISOString(),
      },
    });
  });
}

const refusal = (
  principal: Principal,
  parent: GrantRow,
  input: OfferDelegationInput,
  err: GrantlineError,
): AuditEventInput => ({
  type: 'delegation.refused',
  taskId: parent.task_id,
  grantId: parent.id,
  principal: principal.spiffeId,
  payload: {
    to: input.to,
    scopes: input.scopes,
    error: err.code,
    reason: err.message,
    ...(err.details?.limit ? { limit: err.details.limit } : {}),
  },
});

/** Runs `step`; a 4xx it throws goes on the record as `delegation.refused` (with the allow, if any). */
async function onRecord<T>(
  deps: OfferDeps,
  allowed: Authorized | null,
  event: (err: GrantlineError) => AuditEventInput,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof GrantlineError && err.status < 500)
      await deps.access.recordRefusal(allowed, event(err));
    throw err;
  }
}

/**
 * `POST /v1/grants/:id/delegations`: the holder of an active grant offers a narrower grant to one named
 * workload. Scopes ⊆ the parent's, TTL ≤ its remaining life, depth + 1 ≤ max_depth, children ≤
 * max_fanout, and the budget is reserved from what the parent has left. Every refusal is on the record.
 * Returns a single-use delegation token bound to `to` through `may_act` (RFC 8693 §4.4).
 */
export async function offerDelegation(
  deps: OfferDeps,
  principal: Principal,
  parentId: string,
  input: OfferDelegationInput,
) {
  const parent = await findGrant(deps.db, parentId);
  if (!parent || parent.holder !== principal.spiffeId) throw new GrantNotFound();
  const refused = (err: GrantlineError) => refusal(principal, parent, input, err);
  const hop = await onRecord(deps, null, refused, () => validate(deps, principal, parent, input));
  const { allowed } = await decideGrant({ ...deps, now: () => deps.clock.now() }, principal, {
    action: 'DelegateGrant',
    task: hop.task,
    scopes: hop.scopes,
    audiences: parent.audiences,
    argsDigest: parent.args_digest ?? undefined,
    context: {
      requestedTtl: hop.ttl,
      delegation: { depth: parent.depth + 1, chain: parent.chain, parentHolder: parent.holder },
    },
    grantId: parent.id,
  });
  const offerId = randomUUID();
  const expiresAt = new Date(deps.clock.now().getTime() + Math.min(OFFER_LIFETIME_SECONDS, hop.ttl) * 1000);
  await onRecord(deps, allowed, refused, () =>
    reserve(deps, principal, { hop, input, allowed, offerId, expiresAt }),
  );
  const token = await deps.tokens.mintDelegationToken({
    offerId,
    parentGrantId: parent.id,
    taskId: hop.task.id,
    from: principal.spiffeId,
    to: input.to,
    scopes: hop.scopes,
    expiresAt,
  });
  return {
    offer_id: offerId,
    delegation_token: token,
    token_type: 'N_A',
    expires_in: remainingSeconds(expiresAt, deps.clock.now()),
    to: input.to,
    scopes: hop.scopes,
    ttl: hop.ttl,
    budget: input.budget,
    actions: input.actions ?? null,
    may_redelegate: input.may_redelegate,
  };
}
