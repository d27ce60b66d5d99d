import pg from 'pg';
import type { DomainUnitOfWork } from '../access/unit';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import { grantsInCustody } from '../grants/grant.service';
import { createDatabaseTargets } from '../revocation/database-lockout';
import { createRevocationFeed } from '../revocation/feed';
import { createRevocationHub } from '../revocation/feed-hub';
import { createReconciler } from '../revocation/reconcile';
import { createRevocationWorker } from '../revocation/revocation.worker';
import { finishClose } from '../tasks';
import type { TokenCustody } from '../vault';
import type { Infrastructure } from './infrastructure';

/** Orphans younger than this may be a grant being minted right now (the abandoned-grant grace, too). */
const RECONCILE_GRACE_MS = 120_000;

/** The lease prefixes of the dynamic scopes, for reconciliation (`database/creds/demo-read/`). */
function dynamicLeasePrefixes(catalogue: ScopeCatalogue): string[] {
  const paths = [...catalogue.values()].flatMap((s) =>
    s.vault.kind === 'dynamic' ? [`${s.vault.path}/`] : [],
  );
  return [...new Set(paths)];
}

/** The revocation side: database targets, the outbox worker, the feed and its hub, reconciliation. */
export function buildRevocation(infra: Infrastructure, uow: DomainUnitOfWork, custody: TokenCustody) {
  const { config, db, clock, logger, metrics } = infra;
  const targets = createDatabaseTargets(
    { ...config.revocation.databaseTargets, ...(infra.vault.databaseTargets ?? {}) },
    logger,
  );
  const worker = createRevocationWorker({
    db,
    uow,
    connect: async () => {
      const client = new pg.Client({
        connectionString: infra.databaseUrl,
        application_name: 'grantline-claims',
      });
      await client.connect();
      return client;
    },
    targets,
    vault: infra.vault.vault,
    custody,
    clock,
    logger,
    metrics,
    finishTask: finishClose,
    grantsInCustody: (q) => grantsInCustody(db, q),
    sweepLostLogins: () => reconciler.sweepLostLogins(),
    intervalMs: config.revocation.intervalMs,
    maxAttempts: config.revocation.maxAttempts,
  });
  const feed = createRevocationFeed({ db, uow });
  // Revocations committed here wake the SSE streams at once; other replicas' arrive within the 50 ms poll.
  const hub = createRevocationHub({ tail: (q) => feed.read(q), intervalMs: 50 });
  const reconciler = createReconciler({
    db,
    uow,
    vault: infra.vault.vault,
    targets,
    clock,
    logger,
    metrics,
    leasePrefixes: dynamicLeasePrefixes(infra.catalogue),
    loginPattern: new RegExp(config.revocation.reconcileLoginPattern),
    graceMs: RECONCILE_GRACE_MS,
  });
  /**
   * After a unit that revoked something commits: number its feed entries (so the caller's answer comes
   * only once resource servers can hear of it), wake the streams, and start the worker on Vault.
   */
  const onRevocationQueued = async () => {
    worker.kick();
    await feed
      .sequence()
      .catch((err) => logger.warn({ err: (err as Error).message }, 'feed sequencing failed'));
    hub.wake();
  };
  return { targets, worker, feed, hub, reconciler, onRevocationQueued };
}
