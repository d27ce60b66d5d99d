import { createAccess } from '../access/access';
import { createDomainUnitOfWork } from '../access/unit';
import { createGrantService, grantsOfTask } from '../grants/grant.service';
import { createGrantExpiry } from '../grants/grant-expiry';
import { createIntrospectionService } from '../grants/introspection.service';
import { createLineageService } from '../grants/lineage.service';
import { createApprovalRequestService, createTaskService, expireTasks } from '../tasks';
import { createTokenCustody } from '../vault';
import type { Infrastructure } from './infrastructure';
import { buildRevocation } from './revocation';

export type { Infrastructure };

/** The domain services, wired by hand: the one place that knows who needs whom. */
export function buildServices(infra: Infrastructure) {
  const { config, db, clock, logger, metrics, catalogue, tokens, identity } = infra;
  const uow = createDomainUnitOfWork(db, clock);
  const access = createAccess({ uow, policy: infra.policy, metrics, trustDomain: identity.trustDomain });
  const custody = createTokenCustody(infra.vault.vault, { brokerToken: infra.vault.brokerToken });
  const { targets, worker, hub, reconciler, feed, onRevocationQueued } = buildRevocation(infra, uow, custody);
  const common = {
    db,
    uow,
    access,
    vault: infra.vault.vault,
    custody,
    catalogue,
    clock,
    logger,
    onRevocationQueued,
  };
  const trustDomain = identity.trustDomain;
  const tasks = createTaskService({ ...common, grants: grantsOfTask, trustDomain });
  const approvalRequests = createApprovalRequestService({
    ...common,
    trustDomain,
    requestTtlSeconds: config.approvals.requestTtlSeconds,
  });
  const grants = createGrantService({
    ...common,
    identity,
    tokens,
    metrics,
    connectionValues: infra.vault.connectionValues,
    approvalRequests,
    ttl: { defaultSeconds: config.tokens.defaultTtlSeconds, maxSeconds: config.tokens.maxTtlSeconds },
  });
  const grantExpiry = createGrantExpiry({ db, uow });
  const sweepOnce = async () => {
    const now = clock.now();
    const expiredTasks = await expireTasks({ uow, grants: grantsOfTask, onQueued: onRevocationQueued }, now);
    const offers = await grantExpiry.expireOffers(now);
    const expiredGrants = await grantExpiry.expireGrants(now);
    const abandoned = await grantExpiry.failAbandoned(now, onRevocationQueued);
    const requests = await approvalRequests.expire(now);
    const swept = {
      tasks: expiredTasks,
      grants: expiredGrants,
      abandoned,
      offers,
      approvalRequests: requests,
    };
    if (Object.values(swept).some((n) => n > 0)) logger.info(swept, 'expiry sweep');
  };
  return {
    uow,
    access,
    hub,
    targets,
    reconcileOnce: (dryRun = false) => reconciler.reconcileOnce({ dryRun, targets: targets.names() }),
    tasks,
    grants,
    approvalRequests,
    worker,
    sweepOnce,
    introspection: createIntrospectionService({ db, tokens, access, clock, feed }),
    lineage: createLineageService({ db, access, clock }),
    auditSequencer: infra.audit.sequencer,
    auditKeys: infra.audit.keys,
  };
}

export type Services = ReturnType<typeof buildServices>;
