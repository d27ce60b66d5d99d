import type { DomainUnitOfWork } from '../../access/unit';
import type { AuditEventInput } from '../../audit/audit.types';
import { happened, rowsOf } from '../../db/one-statement';
import { queueGrantRevocation, trackHandles, trackHandlesStep } from '../../revocation/outbox';
import { TaskClosedWhileIssuing } from '../grant.errors';
import { activateGrantStep } from '../grant.repository';
import type { MintedHandle, MintResult } from './mint';
import { depthOf, type GrantPlan } from './plan';

export const untracked = (handles: MintedHandle[]) => handles.filter((h) => !h.tracked);

function issuedEvent(plan: GrantPlan, minted: MintResult): AuditEventInput {
  return {
    type: plan.delegation ? 'grant.delegated' : 'grant.issued',
    taskId: plan.task.id,
    grantId: plan.grantId,
    principal: plan.holder,
    payload: {
      scopes: plan.scopes,
      audience: plan.audience,
      ttl: plan.ttlSeconds,
      cost: plan.cost,
      depth: depthOf(plan),
      chain: plan.chain,
      parent_id: plan.delegation?.parent.id ?? null,
      offer_id: plan.delegation?.offerId ?? null,
      policy_ids: plan.allowed.decision.policyIds,
      policy_version: plan.allowed.decision.policyVersion,
      approval_ids: plan.approvals.map((a) => a.id),
      args_digest: plan.argsDigest,
      vault_token_accessor: minted.grantToken.accessor,
      lease_ids: minted.handles.filter((h) => h.leaseId).map((h) => h.leaseId),
      budget_reserved: plan.delegation?.budget ?? null,
    },
  };
}

/**
 * Step: pending → active with every Vault handle tracked and the decision recorded with its outcome, in
 * ONE statement: the grant row first, then its leases, then the audit events, each only if the grant
 * was still pending. No task row lock: nothing here writes the task (the leases' foreign key only takes
 * a key-share), so a close holding the task waits for this grant row and this unit never waits for close.
 * When a close revoked the grant meanwhile, its handles are tracked and queued for revocation instead
 * (a unit of its own: the rare path) and the request answers 409.
 */
export async function activate(
  deps: { uow: DomainUnitOfWork; onRevocationQueued: () => Promise<void> | void },
  plan: GrantPlan,
  minted: MintResult,
): Promise<void> {
  const tracking = { taskId: plan.task.id, grantId: plan.grantId, handles: untracked(minted.handles) };
  const r = await deps.uow.once<{ activated: number }>(() => ({
    steps: [
      activateGrantStep(plan.grantId, minted.grantToken.accessor),
      trackHandlesStep('grant_leases', tracking, happened('grant_active')),
    ],
    audit: { events: [plan.allowed.event, issuedEvent(plan, minted)], when: happened('grant_active') },
    answer: { activated: rowsOf('grant_active') },
  }));
  if (r.activated === 1) return;
  await deps.uow.run({}, async (w) => {
    await trackHandles(w.tx, tracking);
    await queueGrantRevocation(w.tx, {
      taskId: plan.task.id,
      grantId: plan.grantId,
      grantIds: [plan.grantId],
      now: w.now,
    });
    w.afterCommit(deps.onRevocationQueued);
    w.audit(plan.allowed.event);
  });
  throw new TaskClosedWhileIssuing();
}
