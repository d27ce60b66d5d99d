import type { Access } from '../access/access';
import type { DomainUnitOfWork } from '../access/unit';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db } from '../db/database';
import type { IdentityService, Principal } from '../identity';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { type ApprovalRequestService, type GrantsOfTask, loadTask, taskFacts } from '../tasks';
import type { TokenIssuer } from '../tokens/access-token';
import { grantNeedsCustody, type TokenCustody, type VaultAdapter } from '../vault';
import type { OfferDelegationInput, TokenExchangeInput } from './delegation.schema';
import { GrantNotFound } from './grant.errors';
import { custodyFacts, findGrant, listGrantsOfTask } from './grant.repository';
import type { RequestGrantInput } from './grant.schema';
import { revokeAllOfTask, revokeSubtree } from './grant-revocation';
import { requestGrant } from './issue/direct-request';
import { createGrantPipeline } from './issue/pipeline';
import { redeemDelegation } from './issue/redemption';
import { offerDelegation } from './offer.service';
import type { UsageReportInput } from './usage.schema';
import { reportUsage } from './usage.service';

export interface GrantServiceDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
  vault: VaultAdapter;
  custody: TokenCustody;
  catalogue: ScopeCatalogue;
  identity: IdentityService;
  tokens: TokenIssuer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  connectionValues: Record<string, string | number>;
  ttl: { defaultSeconds: number; maxSeconds: number };
  approvalRequests: ApprovalRequestService;
  onRevocationQueued: () => Promise<void> | void;
}

/**
 * Revokes a grant and its whole subtree: by its holder, the holder of an ancestor, or the task's owner
 * (the policy decides; anyone else gets 404). Revoking an already revoked grant changes nothing.
 */
async function revokeGrant(deps: GrantServiceDeps, principal: Principal, grantId: string, reason: string) {
  const grant = await findGrant(deps.db, grantId);
  if (!grant) throw new GrantNotFound();
  const task = (await loadTask(deps.db, grant.task_id))!;
  const allowed = await deps.access.authorize(
    principal,
    {
      action: 'RevokeGrant',
      task: taskFacts(task),
      context: { holder: grant.holder, delegation: { depth: grant.depth, chain: grant.chain } },
    },
    { taskId: task.id, grantId },
    { deniedAs: () => new GrantNotFound() },
  );
  const revoked = await deps.uow.run({ task: task.id }, async (w) => {
    const done = await revokeSubtree(w, { taskId: task.id, grantId, reason, principal: principal.spiffeId });
    w.audit(allowed.event);
    return done;
  });
  if (revoked.length) await deps.onRevocationQueued();
  const current = await findGrant(deps.db, grantId);
  return { grant_id: grantId, status: current!.status, revoked: revoked.map((g) => g.id) };
}

/** The grants domain: issue (direct and delegated, one pipeline), offer, revoke, meter. */
export function createGrantService(deps: GrantServiceDeps) {
  const issueGrant = createGrantPipeline(deps);
  const issuing = { ...deps, issueGrant };
  return {
    request: (principal: Principal, taskId: string, input: RequestGrantInput) =>
      requestGrant(issuing, principal, taskId, input),
    redeem: (principal: Principal, input: TokenExchangeInput) => redeemDelegation(issuing, principal, input),
    offer: (principal: Principal, parentId: string, input: OfferDelegationInput) =>
      offerDelegation(deps, principal, parentId, input),
    revoke: (principal: Principal, grantId: string, reason: string) =>
      revokeGrant(deps, principal, grantId, reason),
    /** A resource server's report of the tool calls made with the grant (action metering). */
    reportUsage: (principal: Principal, grantId: string, input: UsageReportInput) =>
      reportUsage(deps, principal, grantId, input),
  };
}

/** What the tasks module asks of grants when a task closes or shows its receipt (wired at composition). */
export const grantsOfTask: GrantsOfTask & { listOfTask: typeof listGrantsOfTask } = {
  revokeAll: revokeAllOfTask,
  listOfTask: listGrantsOfTask,
};

export type GrantService = ReturnType<typeof createGrantService>;

/** The grants (of a task, or among some) whose Vault token was kept in custody when minted. */
export async function grantsInCustody(
  db: Db,
  q: { taskId: string } | { grantIds: string[] },
): Promise<string[]> {
  const rows = await custodyFacts(db, q);
  return rows
    .filter((g) => grantNeedsCustody({ depth: g.depth, mayRedelegate: g.may_redelegate }, g.max_depth))
    .map((g) => g.id);
}
