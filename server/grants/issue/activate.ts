import type { DomainUnitOfWork, DomainWork } from '../../access/unit';
import type { AuditEventInput } from '../../audit/audit.types';
import { happened, rowsOf } from '../../db/one-statement';
import { queueGrantRevocation, trackHandles, trackHandlesStep } from '../../revocation/outbox';
import { TaskClosedWhileIssuing } from '../grant.errors';
import { activateGrant, activateGrantStep } from '../grant.repository';
import type { MintedHandle, MintResult } from './mint';
import { depthOf, type GrantPlan } from './plan';
import { audClaim } from './targets';

export interface ActivateDeps {
  uow: DomainUnitOfWork;
  onRevocationQueued: () => Promise<void> | void;
}

export const untracked = (handles: MintedHandle[]) => handles.filter((h) => !h.tracked);

/** Queues the revocation of a grant that will not be active (its handles tracked already) and kicks the worker. */
export async function queueRevocationOf(w: DomainWork, plan: GrantPlan, deps: ActivateDeps): Promise<void> {
  await queueGrantRevocation(w.tx, {
    taskId: plan.task.id,
    grantId: plan.grantId,
    grantIds: [plan.grantId],
    now: w.now,
  });
  w.afterCommit(deps.onRevocationQueued);
}

function issuedEvent(plan: GrantPlan, minted: MintResult): AuditEventInput {
  return {
    type: plan.delegation ? 'grant.delegated' : 'grant.issued',
    taskId: plan.task.id,
    grantId: plan.grantId,
    principal: plan.holder,
    payload: {
      scopes: plan.scopes,
      audience: audClaim(plan.audiences),
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
 * Pending → active, the handles not yet tracked (a database grant's leases) and the decision with its
 * outcome on the record in ONE statement; the leases and the audit are written only if the grant turned
 * active. False when it did not (a close revoked it meanwhile): nothing was written, and the caller's
 * unit tracks the handles and queues their revocation.
 */
async function activateInOneStatement(deps: ActivateDeps, plan: GrantPlan, minted: MintResult) {
  const handles = untracked(minted.handles);
  const track = trackHandlesStep({
    taskId: plan.task.id,
    grantId: plan.grantId,
    handles,
    when: happened('grant_active'),
  });
  const { active } = await deps.uow.once<{ active: number }>(() => ({
    steps: [activateGrantStep(plan.grantId, minted.grantToken.accessor), ...(handles.length ? [track] : [])],
    audit: { events: [plan.allowed.event, issuedEvent(plan, minted)], when: happened('grant_active') },
    answer: { active: rowsOf('grant_active') },
  }));
  return active === 1;
}

/**
 * Step: pending → active with every Vault handle tracked and the decision recorded with its outcome.
 * No task row lock: nothing here writes the task (the leases' foreign key only takes a key-share), so a
 * close holding the task waits for this grant row and this unit never waits for close.
 */
export async function activate(deps: ActivateDeps, plan: GrantPlan, minted: MintResult): Promise<void> {
  if (await activateInOneStatement(deps, plan, minted)) return;
  const active = await deps.uow.run({}, async (w) => {
    const ok = await activateGrant(w.tx, plan.grantId, minted.grantToken.accessor);
    await trackHandles(w.tx, {
      taskId: plan.task.id,
      grantId: plan.grantId,
      handles: untracked(minted.handles),
    });
    if (!ok) {
      await queueRevocationOf(w, plan, deps);
      w.audit(plan.allowed.event);
      return false;
    }
    w.audit(plan.allowed.event, issuedEvent(plan, minted));
    return true;
  });
  if (!active) throw new TaskClosedWhileIssuing();
}
