import type { Access } from '../../access/access';
import type { DomainUnitOfWork } from '../../access/unit';
import type { AuditEventInput } from '../../audit/audit.types';
import type { Db, NewGrant } from '../../db/database';
import { happened, rowsOf } from '../../db/one-statement';
import { GrantlineError, InvalidRequest } from '../../shared/errors';
import { consumeSingleUse, grantSlotStep, whySlotRefused } from '../../tasks';
import { reserveForGrant } from '../budget';
import { insertGrant, insertGrantStep } from '../grant.repository';
import { consumeOffer } from '../offer.repository';
import { depthOf, type GrantPlan } from './plan';

export interface ReserveDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
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
    audiences: plan.audiences,
    ttl_seconds: plan.ttlSeconds,
    cost: plan.cost,
    budget_reserved: d?.budget ?? null,
    actions_reserved: d?.actions ?? null,
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

const refusedEvent = (plan: GrantPlan, err: GrantlineError): AuditEventInput => ({
  type: 'grant.refused',
  taskId: plan.task.id,
  grantId: plan.grantId,
  principal: plan.holder,
  payload: {
    error: err.code,
    reason: err.message,
    ...(err.details?.limit ? { limit: err.details.limit } : {}),
  },
});

/**
 * A direct grant resting on no single-use approval, in ONE statement: the task's slot (every limit in
 * the update's WHERE, the task row locked by it, task row first), then the `pending` grant row only if
 * the slot was taken. Atomic, so a limit holds exactly as in the transaction; one round trip instead of
 * five. On a refusal, which limit it was is read afterwards.
 */
async function reserveDirect(deps: ReserveDeps, plan: GrantPlan, now: Date): Promise<void> {
  const { slot } = await deps.uow.once<{ slot: number }>(() => ({
    steps: [
      grantSlotStep({ taskId: plan.task.id, cost: plan.cost, now }),
      insertGrantStep(grantRow(plan, now), happened('task_slot')),
    ],
    answer: { slot: rowsOf('task_slot') },
  }));
  if (slot === 0) throw await whySlotRefused(deps.db, plan.task.id, plan.cost, now);
}

/** A delegated grant, or one that consumes single-use approvals: one unit holding the task row. */
function reserveInUnit(deps: ReserveDeps, plan: GrantPlan, now: Date): Promise<void> {
  return deps.uow.run({ task: plan.task.id }, async (w) => {
    const d = plan.delegation;
    await insertGrant(w.tx, grantRow(plan, now));
    await consumeSingleUse(w.tx, { approvals: plan.approvals, grantId: plan.grantId, now });
    await reserveForGrant(w.tx, { taskId: plan.task.id, cost: plan.cost, delegated: d !== null, now });
    if (d && !(await consumeOffer(w.tx, { id: d.offerId, grantId: plan.grantId, now })))
      throw new InvalidRequest('the delegation was already redeemed');
  });
}

/**
 * Step: the grant row (`pending`), its share of the limits, the single-use approvals and the redeemed
 * offer, atomically. When a limit refuses after policy allowed, both go on the record.
 */
export async function reserve(deps: ReserveDeps, plan: GrantPlan, now: Date): Promise<void> {
  const oneStatement = plan.delegation === null && !plan.approvals.some((a) => a.single_use);
  try {
    await (oneStatement ? reserveDirect(deps, plan, now) : reserveInUnit(deps, plan, now));
  } catch (err) {
    if (err instanceof GrantlineError && err.status < 500)
      await deps.access.recordRefusal(plan.allowed, refusedEvent(plan, err));
    throw err;
  }
}
