import { randomUUID } from 'node:crypto';
import type { Access } from '../../access/access';
import type { ScopeCatalogue } from '../../config/scope-catalogue';
import type { Db, GrantRow, OfferRow, TaskRow } from '../../db/database';
import type { IdentityService, Principal } from '../../identity';
import type { Clock } from '../../shared/clock';
import { InvalidRequest, QuotaExceeded, UnsupportedGrantType } from '../../shared/errors';
import { loadTask, requireAdmitted } from '../../tasks';
import type { TokenIssuer } from '../../tokens/access-token';
import {
  ACCESS_TOKEN_TYPE,
  JWT_TOKEN_TYPE,
  TOKEN_EXCHANGE,
  type TokenExchangeInput,
} from '../delegation.schema';
import { findGrant } from '../grant.repository';
import { narrowScopes } from '../narrow';
import { findOffer } from '../offer.repository';
import { decideGrant } from './decide';
import type { GrantPlan, GrantResponse } from './plan';
import { audClaim, exchangeAudiences } from './targets';
import { remainingSeconds } from './ttl';

export interface RedemptionDeps {
  db: Db;
  access: Access;
  catalogue: ScopeCatalogue;
  identity: IdentityService;
  tokens: TokenIssuer;
  clock: Clock;
  issueGrant(plan: GrantPlan): Promise<GrantResponse>;
}

/** RFC 8693 §2.1 parameters the broker supports; anything else is refused before any lookup. */
function checkExchange(input: TokenExchangeInput): string {
  if (input.grant_type !== TOKEN_EXCHANGE)
    throw new UnsupportedGrantType(`only ${TOKEN_EXCHANGE} is supported`);
  if (!input.subject_token) throw new InvalidRequest('subject_token is required');
  if (input.subject_token_type !== JWT_TOKEN_TYPE)
    throw new InvalidRequest(`subject_token_type must be ${JWT_TOKEN_TYPE}`);
  if (input.requested_token_type && input.requested_token_type !== ACCESS_TOKEN_TYPE)
    throw new InvalidRequest(`only ${ACCESS_TOKEN_TYPE} can be issued`);
  return input.subject_token;
}

/** The actor of a token exchange: its own JWT-SVID (`actor_token`), or the mTLS certificate it came with. */
async function actorOf(
  deps: RedemptionDeps,
  principal: Principal,
  input: TokenExchangeInput,
): Promise<Principal> {
  if (!input.actor_token) {
    if (principal.via === 'x509-svid') return principal;
    throw new InvalidRequest('actor_token is required: the sub-agent presents its own JWT-SVID');
  }
  if (input.actor_token_type !== JWT_TOKEN_TYPE)
    throw new InvalidRequest(`actor_token_type must be ${JWT_TOKEN_TYPE}`);
  const actor = await deps.identity.verifyJwtSvid(input.actor_token).catch((err: Error) => {
    throw new InvalidRequest(`the actor_token is not a valid JWT-SVID: ${err.message}`);
  });
  if (actor.spiffeId !== principal.spiffeId)
    throw new InvalidRequest('the actor_token names a different workload than the authenticated caller');
  return principal.via === 'x509-svid' ? principal : actor;
}

/** The offer the delegation token names, bound to this actor (`may_act`) and still redeemable. */
async function liveOffer(deps: RedemptionDeps, actor: Principal, subjectToken: string) {
  const claims = await deps.tokens.verifyDelegationToken(subjectToken).catch((err: Error) => {
    throw new InvalidRequest(`the subject_token is not a valid delegation token: ${err.message}`);
  });
  const offer = await findOffer(deps.db, claims.offerId);
  if (!offer) throw new InvalidRequest('unknown delegation');
  if (offer.to_holder !== actor.spiffeId) {
    const reason = 'the delegation is bound to another workload (may_act)';
    await deps.access.recordRefusal(null, {
      type: 'delegation.refused',
      taskId: offer.task_id,
      grantId: offer.parent_grant_id,
      principal: actor.spiffeId,
      payload: { offer_id: offer.id, reason },
    });
    throw new InvalidRequest(reason);
  }
  const now = deps.clock.now();
  if (offer.status !== 'pending' || offer.expires_at <= now)
    throw new InvalidRequest(`the delegation is ${offer.status === 'pending' ? 'expired' : offer.status}`);
  const parent = (await findGrant(deps.db, offer.parent_grant_id))!;
  const task = (await loadTask(deps.db, offer.task_id))!;
  if (parent.status !== 'active' || task.status !== 'open')
    throw new InvalidRequest('the delegating grant or its task is no longer active');
  await requireAdmittedOnRecord(deps, actor, offer, task);
  return { offer, parent, task };
}

/**
 * The redeemer must be a workload the task admits (its agents or delegates) however the offer came to
 * name it: a federated workload the task never listed holds nothing of it. Refusals are on the record.
 */
async function requireAdmittedOnRecord(
  deps: RedemptionDeps,
  actor: Principal,
  offer: OfferRow,
  task: TaskRow,
) {
  try {
    requireAdmitted(task, actor.spiffeId);
  } catch (err) {
    await deps.access.recordRefusal(null, {
      type: 'delegation.refused',
      taskId: offer.task_id,
      grantId: offer.parent_grant_id,
      principal: actor.spiffeId,
      payload: { offer_id: offer.id, reason: (err as Error).message },
    });
    throw err;
  }
}

/** What the redeemer may take: scopes ⊆ the offer's, audiences ⊆ the parent's, TTL and cost within the offer. */
function hopOf(deps: RedemptionDeps, input: TokenExchangeInput, offer: OfferRow, parent: GrantRow) {
  const scopes = input.scope
    ? narrowScopes(input.scope.split(' ').filter(Boolean), offer.scopes, 'a redemption')
    : offer.scopes;
  const audiences = exchangeAudiences(input, parent);
  const ttl = Math.min(offer.ttl_seconds, remainingSeconds(parent.expires_at, deps.clock.now()));
  if (ttl < 1) throw new InvalidRequest('the delegating grant has expired');
  const cost = scopes.reduce((sum, s) => sum + deps.catalogue.get(s)!.cost, 0);
  if (cost > offer.budget)
    throw new QuotaExceeded(
      'budget',
      `the scopes cost ${cost}, the delegation carries a budget of ${offer.budget}`,
    );
  return { scopes, audiences, ttl, cost };
}

function planOf(
  actor: Principal,
  found: { offer: OfferRow; parent: GrantRow; task: TaskRow },
  hop: { scopes: string[]; audiences: string[]; ttl: number; cost: number },
): Omit<GrantPlan, 'grantId' | 'allowed' | 'approvals' | 'argsDigest'> {
  const { offer, parent, task } = found;
  return {
    task,
    delegation: { parent, offerId: offer.id, budget: offer.budget, actions: offer.actions },
    holder: actor.spiffeId,
    chain: [...parent.chain, actor.spiffeId],
    scopes: hop.scopes,
    audiences: hop.audiences,
    ttlSeconds: hop.ttl,
    cost: hop.cost,
    mayRedelegate: offer.may_redelegate,
    certThumbprint: actor.certThumbprint,
    constraints: {
      scopes: hop.scopes,
      offered_scopes: offer.scopes,
      audience: audClaim(hop.audiences),
      ttl: hop.ttl,
      budget: offer.budget,
      actions: offer.actions,
      cost: hop.cost,
      depth: parent.depth + 1,
      may_redelegate: offer.may_redelegate,
      parent_holder: parent.holder,
      offer_id: offer.id,
    },
  };
}

/**
 * `POST /oauth2/token`, RFC 8693 token exchange: the sub-agent redeems the delegation token with its own
 * identity. The hop is re-authenticated (the actor must be the workload the offer names), re-authorised
 * by policy with the hop's context, consumed exactly once, and minted as a child of the parent grant.
 */
export async function redeemDelegation(
  deps: RedemptionDeps,
  principal: Principal,
  input: TokenExchangeInput,
): Promise<GrantResponse & { issued_token_type: string }> {
  const subjectToken = checkExchange(input);
  const actor = await actorOf(deps, principal, input);
  const found = await liveOffer(deps, actor, subjectToken);
  const hop = hopOf(deps, input, found.offer, found.parent);
  const grantId = randomUUID();
  const parentDigest = found.parent.args_digest ?? undefined;
  const decided = await decideGrant({ ...deps, now: () => deps.clock.now() }, actor, {
    action: 'RedeemGrant',
    task: found.task,
    scopes: hop.scopes,
    audiences: hop.audiences,
    // The child keeps its parent's bound arguments: a hop narrows, it never unbinds.
    argsDigest: parentDigest,
    context: {
      requestedTtl: hop.ttl,
      delegation: {
        depth: found.parent.depth + 1,
        chain: found.parent.chain,
        parentHolder: found.parent.holder,
      },
    },
    grantId,
    deniedGrantId: found.parent.id,
  });
  const granted = await deps.issueGrant({
    ...planOf(actor, found, hop),
    grantId,
    allowed: decided.allowed,
    approvals: decided.approvals,
    argsDigest: parentDigest ?? decided.argsDigest,
  });
  return { ...granted, issued_token_type: ACCESS_TOKEN_TYPE };
}
