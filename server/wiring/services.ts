import { createAccess } from '../access/access';
import { createDomainUnitOfWork } from '../access/unit';
import type { Config } from '../config/config';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db } from '../db/database';
import { createGrantService, grantsInCustody, grantsOfTask } from '../grants/grant.service';
import { createGrantExpiry } from '../grants/grant-expiry';
import { createIntrospectionService } from '../grants/introspection.service';
import { createLineageService } from '../grants/lineage.service';
import type { IdentityService } from '../identity';
import type { PolicyEngine } from '../policy';
import { createRevocationWorker } from '../revocation/revocation.worker';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { createApprovalRequestService, createTaskService, expireTasks, finishClose } from '../tasks';
import type { TokenIssuer } from '../tokens/access-token';
import { createTokenCustody } from '../vault';
import type { VaultConnection } from './vault-connection';

export interface Infrastructure {
  config: Config;
  db: Db;
  vault: VaultConnection;
  identity: IdentityService;
  tokens: TokenIssuer;
  policy: PolicyEngine;
  catalogue: ScopeCatalogue;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** The domain services, wired by hand: the one place that knows who needs whom. */
export function buildServices(infra: Infrastructure) {
  const { config, db, clock, logger, metrics, catalogue, tokens, identity } = infra;
  const uow = createDomainUnitOfWork(db, clock);
  const access = createAccess({ uow, policy: infra.policy, metrics, trustDomain: identity.trustDomain });
  const custody = createTokenCustody(infra.vault.vault, { brokerToken: infra.vault.brokerToken });
  const worker = createRevocationWorker({
    db,
    uow,
    vault: infra.vault.vault,
    custody,
    clock,
    logger,
    metrics,
    finishTask: finishClose,
    grantsInCustody: (q) => grantsInCustody(db, q),
    intervalMs: config.revocation.intervalMs,
    maxAttempts: config.revocation.maxAttempts,
  });
  const onRevocationQueued = () => worker.kick();
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
    tasks,
    grants,
    approvalRequests,
    worker,
    sweepOnce,
    introspection: createIntrospectionService({ db, tokens, access, clock }),
    lineage: createLineageService({ db, access, clock }),
  };
}

export type Services = ReturnType<typeof buildServices>;
