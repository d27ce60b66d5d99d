import { randomUUID } from 'node:crypto';
import { appendAuditEvent, appendAuditEvents } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit.types';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db, GrantRow, TaskRow } from '../db/database';
import { lockTaskRow } from '../db/locks';
import type { IdentityService, Principal } from '../identity';
import type { DecisionContext } from '../policy';
import type { Clock } from '../shared/clock';
import { AccessDenied, GrantlineError, QuotaExceeded } from '../shared/errors';
import type { AccessControl, DecisionRequest } from '../tasks/access';
import { TaskNotOpen } from '../tasks/task.errors';
import { findTask } from '../tasks/task.repository';
import { taskFacts } from '../tasks/task.service';
import type { TokenIssuer } from '../tokens/access-token';
import {
  ACCESS_TOKEN_TYPE,
  JWT_TOKEN_TYPE,
  type OfferDelegationInput,
  TOKEN_EXCHANGE,
  type TokenExchangeInput,
} from './delegation.schema';
import { GrantNotFound } from './grant.errors';
import { findGrant } from './grant.repository';
import { foldDecisions, grantTtl, liveApprovals, scopeFacts } from './grant.service';
import type { GrantPlan, GrantResponse, IssueGrant } from './grant-issuer';
import { OAuthError } from './oauth.errors';
import { consumeOffer, findOffer, insertOffer, reserveForOffer } from './offer.repository';
import { reserveTaskQuota } from './quota';

/** An unredeemed offer is short-lived whatever TTL the delegated grant will have. */
const OFFER_LIFETIME_SECONDS = 300;

export interface DelegationDeps {
  db: Db;
  access: AccessControl;
  catalogue: ScopeCatalogue;
  identity: IdentityService;
  tokens: TokenIssuer;
  issueGrant: IssueGrant;
  clock: Clock;
}

const remainingSeconds = (until: Date, now: Date) => Math.floor((until.getTime() - now.getTime()) / 1000);

export function createDelegationService(deps: DelegationDeps) {
  const now = () => deps.clock.now();
  /** Refusals already written to the audit log, and allow decisions to record with a limit's refusal. */
  const audited = new WeakSet<Error>();
  const pendingDecision = new WeakMap<Error, AuditEventInput>();

  /** Policy for a hop, one decision per scope, with the hop's context (depth, chain, parent holder). */
  async function decideHop(
    principal: Principal,
    action: 'DelegateGrant' | 'RedeemGrant',
    task: TaskRow,
    parent: GrantRow,
    scopes: string[],
    ttl: number,
  ) {
    // A privileged scope needs a live human approval at every hop, not only at the first grant.
    const approvals = await liveApprovals(deps, { taskId: task.id, scopes, now: now() });
    const context = (scope?: string): DecisionContext => {
      const approval = scope ? approvals.get(scope) : undefined;
      return {
        requestedTtl: ttl,
        approval: approval ? { live: true, approver: approval.approver, id: approval.id } : { live: false },
        delegation: { depth: parent.depth + 1, chain: parent.chain, parentHolder: parent.holder },
      };
    };
    const facts = taskFacts(task);
    const decision = foldDecisions(
      scopes.map((scope) => ({
        scope,
        decision: deps.access.evaluate(principal, {
          action,
          task: facts,
          scope: scopeFacts(scope, deps.catalogue.get(scope)!),
          context: context(scope),
        }),
      })),
    );
    const summary: DecisionRequest = {
      action,
      task: facts,
      context: { ...context(), approval: { live: approvals.size > 0 } },
    };
    return { decision, summary, approvals: [...approvals.values()] };
  }

  function narrow(requested: string[], allowed: string[], what: string): string[] {
    const scopes = [...new Set(requested)].sort();
    if (scopes.length === 0) throw new OAuthError('invalid_scope', `${what} needs at least one scope`);
    const wider = scopes.filter((s) => !allowed.includes(s));
    if (wider.length)
      throw new OAuthError(
        'invalid_scope',
        `${what} may only narrow: ${wider.join(', ')} not in ${allowed.join(' ')}`,
        { widening: wider },
      );
    return scopes;
  }

  /**
   * The holder of an active grant offers a narrower grant to one named workload. Scopes ⊆ the parent's,
   * TTL ≤ its remaining life, depth + 1 ≤ max_depth, children ≤ max_fanout, and the budget is reserved
   * from what the parent has left, all in one transaction. Returns a single-use delegation token bound
   * to `to` through `may_act` (RFC 8693 §4.4).
   */
  async function offer(principal: Principal, parentId: string, input: OfferDelegationInput) {
    const parent = await findGrant(deps.db, parentId);
    if (!parent || parent.holder !== principal.spiffeId) throw new GrantNotFound();
    try {
      return await offerFrom(principal, parent, input);
    } catch (err) {
      // Every refusal of a hop is on the record (a policy deny already is, through `refuse`).
      if (err instanceof GrantlineError && err.status < 500 && !audited.has(err)) {
        await deps.db.transaction().execute((tx) =>
          appendAuditEvents(
            tx,
            [
              ...(err instanceof QuotaExceeded && pendingDecision.has(err)
                ? [pendingDecision.get(err)!]
                : []),
              {
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
              },
            ],
            deps.clock,
          ),
        );
      }
      throw err;
    }
  }

  async function offerFrom(principal: Principal, parent: GrantRow, input: OfferDelegationInput) {
    const task = (await findTask(deps.db, parent.task_id))!;
    if (task.status !== 'open') throw new TaskNotOpen(task.status);
    if (parent.status !== 'active' || parent.expires_at <= now())
      throw new GrantlineError(
        'conflict',
        409,
        `the grant is ${parent.status === 'active' ? 'expired' : parent.status}`,
      );
    if (!parent.may_redelegate)
      throw new AccessDenied('this grant may not be delegated further (may_redelegate is false)', {
        reasons: ['may_redelegate is false'],
      });
    if (input.to === principal.spiffeId)
      throw new OAuthError('invalid_request', 'a grant cannot be delegated to its own holder');
    const scopes = narrow(input.scopes, parent.scopes, 'a delegation');
    if (parent.depth + 1 > task.max_depth)
      throw new QuotaExceeded(
        'max_depth',
        `delegating would reach depth ${parent.depth + 1}, the task allows ${task.max_depth}`,
      );
    const parentLeft = remainingSeconds(parent.expires_at, now());
    if (parentLeft < 1)
      throw new GrantlineError('conflict', 409, 'the grant expires too soon to be delegated');
    const ttl = grantTtl(input.ttl, { defaultSeconds: parentLeft, maxSeconds: 86400 }, parentLeft);
    const { decision, summary } = await decideHop(principal, 'DelegateGrant', task, parent, scopes, ttl);
    const offerId = randomUUID();
    if (!decision.allowed) {
      await deps.access
        .refuse(principal, summary, decision, { taskId: task.id, grantId: parent.id })
        .catch((err) => {
          audited.add(err);
          throw err;
        });
    }
    const expiresAt = new Date(now().getTime() + Math.min(OFFER_LIFETIME_SECONDS, ttl) * 1000);
    const allowEvent = deps.access.decisionEvent(principal, summary, decision, {
      taskId: task.id,
      grantId: parent.id,
    });
    await deps.db.transaction().execute(async (tx) => {
      await lockTaskRow(tx, task.id);
      const refused = await reserveForOffer(tx, { parent, budget: input.budget, maxFanout: task.max_fanout });
      if (refused === 'parent_inactive')
        throw new GrantlineError('conflict', 409, 'the grant is no longer active');
      const limit =
        refused === 'max_fanout'
          ? new QuotaExceeded('max_fanout', `the grant already has ${task.max_fanout} delegations`)
          : refused === 'budget'
            ? new QuotaExceeded('budget', `the grant has less than ${input.budget} of its budget left`)
            : undefined;
      if (limit) {
        // Policy allowed, a limit refused: the allow is recorded with the refusal (this transaction rolls back).
        pendingDecision.set(limit, allowEvent);
        throw limit;
      }
      await insertOffer(tx, {
        id: offerId,
        task_id: task.id,
        parent_grant_id: parent.id,
        from_holder: principal.spiffeId,
        to_holder: input.to,
        scopes,
        ttl_seconds: ttl,
        budget: input.budget,
        may_redelegate: input.may_redelegate,
        policy_ids: decision.policyIds,
        policy_version: decision.policyVersion,
        expires_at: expiresAt,
      });
      await appendAuditEvents(
        tx,
        [
          allowEvent,
          {
            type: 'delegation.offered',
            taskId: task.id,
            grantId: parent.id,
            principal: principal.spiffeId,
            payload: {
              offer_id: offerId,
              to: input.to,
              scopes,
              ttl,
              budget: input.budget,
              may_redelegate: input.may_redelegate,
              depth: parent.depth + 1,
              expires_at: expiresAt.toISOString(),
            },
          },
        ],
        deps.clock,
      );
    });
    const token = await deps.tokens.mintDelegationToken({
      offerId,
      parentGrantId: parent.id,
      taskId: task.id,
      from: principal.spiffeId,
      to: input.to,
      scopes,
      expiresAt,
    });
    return {
      offer_id: offerId,
      delegation_token: token,
      token_type: 'N_A',
      expires_in: remainingSeconds(expiresAt, now()),
      to: input.to,
      scopes,
      ttl,
      budget: input.budget,
      may_redelegate: input.may_redelegate,
    };
  }

  /** The actor of a token exchange: its own JWT-SVID (`actor_token`), or the mTLS certificate it came with. */
  async function actorOf(principal: Principal, input: TokenExchangeInput): Promise<Principal> {
    if (!input.actor_token) {
      if (principal.via === 'x509-svid') return principal;
      throw new OAuthError(
        'invalid_request',
        'actor_token is required: the sub-agent presents its own JWT-SVID',
      );
    }
    if (input.actor_token_type !== JWT_TOKEN_TYPE)
      throw new OAuthError('invalid_request', `actor_token_type must be ${JWT_TOKEN_TYPE}`);
    let actor: Principal;
    try {
      actor = await deps.identity.verifyJwtSvid(input.actor_token);
    } catch (err) {
      throw new OAuthError(
        'invalid_request',
        `the actor_token is not a valid JWT-SVID: ${(err as Error).message}`,
      );
    }
    if (actor.spiffeId !== principal.spiffeId)
      throw new OAuthError(
        'invalid_request',
        'the actor_token names a different workload than the authenticated caller',
      );
    return principal.via === 'x509-svid' ? principal : actor;
  }

  async function refuseRedemption(
    principal: Principal,
    taskId: string,
    grantId: string,
    offerId: string,
    reason: string,
  ): Promise<never> {
    await deps.db.transaction().execute((tx) =>
      appendAuditEvent(
        tx,
        {
          type: 'delegation.refused',
          taskId,
          grantId,
          principal: principal.spiffeId,
          payload: { offer_id: offerId, reason },
        },
        deps.clock,
      ),
    );
    throw new OAuthError('invalid_request', reason);
  }

  /**
   * RFC 8693 token exchange: the sub-agent redeems the delegation token with its own identity. The hop is
   * re-authenticated (the actor must be the workload the offer names), re-authorised by policy with the
   * hop's context, consumed exactly once, and minted as a child of the parent grant in Vault.
   */
  async function redeem(
    principal: Principal,
    input: TokenExchangeInput,
  ): Promise<GrantResponse & { issued_token_type: string }> {
    if (input.grant_type !== TOKEN_EXCHANGE)
      throw new OAuthError('unsupported_grant_type', `only ${TOKEN_EXCHANGE} is supported`);
    if (!input.subject_token) throw new OAuthError('invalid_request', 'subject_token is required');
    if (input.subject_token_type !== JWT_TOKEN_TYPE)
      throw new OAuthError('invalid_request', `subject_token_type must be ${JWT_TOKEN_TYPE}`);
    if (input.requested_token_type && input.requested_token_type !== ACCESS_TOKEN_TYPE)
      throw new OAuthError('invalid_request', `only ${ACCESS_TOKEN_TYPE} can be issued`);
    if (input.resource)
      throw new OAuthError('invalid_target', 'resource indicators are not supported; use audience');
    const actor = await actorOf(principal, input);
    const claims = await deps.tokens.verifyDelegationToken(input.subject_token).catch((err: Error) => {
      throw new OAuthError(
        'invalid_request',
        `the subject_token is not a valid delegation token: ${err.message}`,
      );
    });
    const offer = await findOffer(deps.db, claims.offerId);
    if (!offer) throw new OAuthError('invalid_request', 'unknown delegation');
    if (offer.to_holder !== actor.spiffeId)
      await refuseRedemption(
        actor,
        offer.task_id,
        offer.parent_grant_id,
        offer.id,
        'the delegation is bound to another workload (may_act)',
      );
    if (offer.status !== 'pending' || offer.expires_at <= now())
      throw new OAuthError(
        'invalid_request',
        `the delegation is ${offer.status === 'pending' ? 'expired' : offer.status}`,
      );
    const parent = (await findGrant(deps.db, offer.parent_grant_id))!;
    const task = (await findTask(deps.db, offer.task_id))!;
    if (parent.status !== 'active' || task.status !== 'open')
      throw new OAuthError('invalid_request', 'the delegating grant or its task is no longer active');
    const scopes = input.scope
      ? narrow(input.scope.split(' ').filter(Boolean), offer.scopes, 'a redemption')
      : offer.scopes;
    if (input.audience && input.audience !== parent.audience)
      throw new OAuthError('invalid_target', `the audience must stay ${parent.audience}`);
    const ttl = Math.min(offer.ttl_seconds, remainingSeconds(parent.expires_at, now()));
    if (ttl < 1) throw new OAuthError('invalid_request', 'the delegating grant has expired');
    const cost = scopes.reduce((sum, s) => sum + deps.catalogue.get(s)!.cost, 0);
    if (cost > offer.budget)
      throw new QuotaExceeded(
        'budget',
        `the scopes cost ${cost}, the delegation carries a budget of ${offer.budget}`,
      );
    const { decision, summary, approvals } = await decideHop(actor, 'RedeemGrant', task, parent, scopes, ttl);
    const grantId = randomUUID();
    if (!decision.allowed)
      await deps.access.refuse(actor, summary, decision, { taskId: task.id, grantId: parent.id });
    const plan: GrantPlan = {
      grantId,
      task,
      parent,
      offerId: offer.id,
      holder: actor.spiffeId,
      chain: [...parent.chain, actor.spiffeId],
      scopes,
      audience: parent.audience,
      ttlSeconds: ttl,
      cost,
      budgetReserved: offer.budget,
      mayRedelegate: offer.may_redelegate,
      policyIds: decision.policyIds,
      policyVersion: decision.policyVersion,
      approvals,
      certThumbprint: actor.certThumbprint,
      constraints: {
        scopes,
        offered_scopes: offer.scopes,
        ttl,
        budget: offer.budget,
        cost,
        depth: parent.depth + 1,
        may_redelegate: offer.may_redelegate,
        parent_holder: parent.holder,
        offer_id: offer.id,
      },
      reserve: async (tx) => {
        await reserveTaskQuota(tx, { taskId: task.id, cost, now: now(), drawBudget: false });
        if (!(await consumeOffer(tx, { id: offer.id, grantId, now: now() })))
          throw new OAuthError('invalid_request', 'the delegation was already redeemed');
      },
      decisionEvent: deps.access.decisionEvent(actor, summary, decision, { taskId: task.id, grantId }),
    };
    const granted = await deps.issueGrant(plan);
    return { ...granted, issued_token_type: ACCESS_TOKEN_TYPE };
  }

  return { offer, redeem };
}

export type DelegationService = ReturnType<typeof createDelegationService>;
