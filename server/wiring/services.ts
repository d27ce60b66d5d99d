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
import { createRevocationFeed } from '../revocation/feed';
import { createRevocationHub } from '../revocation/feed-hub';
import { createRevocationWorker } from '../revocation/revocation.worker';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { createTaskService, expireTasks, finishClose } from '../tasks';
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
  const feed = createRevocationFeed({ db, uow });
  // Revocations committed here wake the SSE streams at once; other replicas' arrive within the 50 ms poll.
  const hub = createRevocationHub({ tail: (q) => feed.read(q), intervalMs: 50 });
  const onRevocationQueued = () => {
    worker.kick();
    hub.wake();
  };
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
  const tasks = createTaskService({ ...common, grants: grantsOfTask });
  const grants = createGrantService({
    ...common,
    identity,
    tokens,
    metrics,
    connectionValues: infra.vault.connectionValues,
    ttl: { defaultSeconds: config.tokens.defaultTtlSeconds, maxSeconds: config.tokens.maxTtlSeconds },
  });
  const grantExpiry = createGrantExpiry({ db, uow });
  const sweepOnce = async () => {
    const now = clock.now();
    const expiredTasks = await expireTasks({ uow, grants: grantsOfTask, onQueued: onRevocationQueued }, now);
    const offers = await grantExpiry.expireOffers(now);
    const expiredGrants = await grantExpiry.expireGrants(now);
    const abandoned = await grantExpiry.failAbandoned(now, onRevocationQueued);
    if (expiredTasks || expiredGrants || abandoned || offers)
      logger.info({ tasks: expiredTasks, grants: expiredGrants, abandoned, offers }, 'expiry sweep');
  };
  return {
    access,
    hub,
    tasks,
    grants,
    worker,
    sweepOnce,
    introspection: createIntrospectionService({ db, tokens, access, clock, feed }),
    lineage: createLineageService({ db, access, clock }),
  };
}

export type Services = ReturnType<typeof buildServices>;
