import { sql } from 'kysely';
import type { Access } from '../../access/access';
import type { DomainUnitOfWork } from '../../access/unit';
import type { AuditEventInput } from '../../audit/audit.types';
import type { Db, NewGrant } from '../../db/database';
import { refusalReason } from '../../db/db.errors';
import { type Cte, happened, refuseUnless, rowsOf } from '../../db/one-statement';
import { AccessDenied, GrantlineError, InvalidRequest } from '../../shared/errors';
import { consumeSingleUseSteps, SINGLE_USE_TAKEN, TaskNotOpen, whySlotRefused } from '../../tasks';
import { reserveForGrantStep } from '../budget';
import { insertGrantStep } from '../grant.repository';
import { consumeOfferStep } from '../offer.repository';
import { depthOf, type GrantPlan } from './plan';

const OFFER_TAKEN = 'offer taken';

export interface ReserveDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
  /** A reservation found the task no longer open: what this process knew of it is stale. */
  onTaskNotOpen(taskId: string): void;
}

function grantRow(plan: GrantPlan, now: Date): NewGrant {
  const d = plan.delegation;
  return {
    id: plan.grantId,
    task_id: plan.task.id,
    parent_id: d?.parent.id ?? null,
    offer_id: d?.offerId ?? null,
    depth: depthOf(plan),
    holder: plan.holder,
    chain: plan.chain,
    scopes: plan.scopes,
    audience: plan.audience,
    ttl_seconds: plan.ttlSeconds,
    cost: plan.cost,
    budget_reserved: d?.budget ?? null,
    may_redelegate: plan.mayRedelegate,
    // A delegated grant's own scopes draw on its reservation at once; a direct grant draws on the task.
    budget_spent: d ? plan.cost : 0,
    constraints: JSON.stringify(plan.constraints),
    policy_ids: plan.allowed.decision.policyIds,
    policy_version: plan.allowed.decision.policyVersion,
    approval_id: plan.approvals[0]?.id ?? null,
    args_digest: plan.argsDigest,
    cert_thumbprint: plan.certThumbprint ?? null,
    issued_at: now,
    expires_at: new Date(now.getTime() + plan.ttlSeconds * 1000),
  };
}

/**
 * The reservation's steps, in the one lock order: the task row (its slot and budget, every limit in the
 * WHERE), then the offer redeemed and the single-use approvals consumed, each only once the slot was
 * taken, then the `pending` grant row. An offer or approval a concurrent request took first undoes all.
 */
function reservationSteps(plan: GrantPlan, now: Date): Cte[] {
  const d = plan.delegation;
  const slot = reserveForGrantStep({ taskId: plan.task.id, cost: plan.cost, delegated: d !== null, now });
  const took = happened(slot.name);
  const steps = [slot];
  if (d) {
    const redeemed = sql<boolean>`(not ${took} or ${rowsOf('offer_used')} = 1)`;
    steps.push(consumeOfferStep({ id: d.offerId, grantId: plan.grantId, now }, took));
    steps.push(refuseUnless('offer_check', redeemed, OFFER_TAKEN));
  }
  steps.push(...consumeSingleUseSteps({ approvals: plan.approvals, grantId: plan.grantId, now }, took));
  steps.push(insertGrantStep(grantRow(plan, now), took));
  return steps;
}

function refusedEvent(plan: GrantPlan, err: GrantlineError): AuditEventInput {
  return {
    type: 'grant.refused',
    taskId: plan.task.id,
    grantId: plan.grantId,
    principal: plan.holder,
    payload: {
      error: err.code,
      reason: err.message,
      ...(err.details?.limit ? { limit: err.details.limit } : {}),
    },
  };
}

function asDomainError(err: unknown): unknown {
  const reason = refusalReason(err);
  if (reason === OFFER_TAKEN) return new InvalidRequest('the delegation was already redeemed');
  if (reason === SINGLE_USE_TAKEN)
    return new AccessDenied('a single-use approval this grant rests on was already used');
  return err;
}

/**
 * Step: the grant row (`pending`), its share of the limits, the single-use approvals and the redeemed
 * offer, in ONE statement (one round trip, the task row locked only while PostgreSQL runs it). When a
 * limit refuses after policy allowed, both go on the record.
 */
export async function reserve(deps: ReserveDeps, plan: GrantPlan, now: Date): Promise<void> {
  try {
    const r = await deps.uow.once<{ slot: number }>(() => ({
      steps: reservationSteps(plan, now),
      answer: { slot: rowsOf('task_slot') },
    }));
    if (r.slot === 0) throw await whySlotRefused(deps.db, plan.task.id, plan.delegation ? 0 : plan.cost, now);
  } catch (caught) {
    const err = asDomainError(caught);
    if (err instanceof TaskNotOpen) deps.onTaskNotOpen(plan.task.id);
    if (err instanceof GrantlineError && err.status < 500)
      await deps.access.recordRefusal(plan.allowed, refusedEvent(plan, err));
    throw err;
  }
}
