import { createJobClaims } from './job-claims';
import { createJobRunner } from './job-runner';
import { describe } from './lease-revoker';
import { createVaultReturnWatch } from './vault-return';
import type { WorkerDeps } from './worker.types';

export type { WorkerDeps };

const MAX_BACKOFF_MS = 60_000;
const JOBS_PER_ROUND = 8;

export function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Drains the revocation outbox: claims due jobs (any number of brokers may run this; a dead broker's
 * claims fall to the others within one poll), revokes and verifies every handle, reschedules with backoff
 * while anything is left, and finishes the task's close once everything is proved gone.
 */
export function createRevocationWorker(deps: WorkerDeps) {
  const log = deps.logger.child({ module: 'revocation' });
  const claims = createJobClaims({ db: deps.db, connect: deps.connect, logger: log });
  const run = createJobRunner({ ...deps, logger: log, backoffMs });
  const vaultReturn = createVaultReturnWatch({ ...deps, logger: log });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;

  /** Processes every job that is due now; returns how many were handled. */
  async function drainOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const jobs = await claims.claimDue(deps.clock.now(), JOBS_PER_ROUND);
      if (jobs.length === 0) return handled;
      await Promise.all(
        jobs.map((job) =>
          run(job)
            .then((rescheduled) => rescheduled && vaultReturn.jobWaits())
            .catch((err) => log.error({ jobId: job.id, err: describe(err) }, 'revocation job crashed'))
            .finally(() => claims.release(job.id)),
        ),
      );
      handled += jobs.length;
    }
  }

  function drain(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = drainOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void drain().catch((err) => log.warn({ err: describe(err) }, 'revocation drain failed'));
      }
    });
    return running;
  }

  return {
    drain,
    /** Ask for a drain now (after a close commits) instead of waiting for the next tick. */
    kick(): void {
      void drain().catch((err) => log.error({ err: describe(err) }, 'revocation drain failed'));
    },
    start(): void {
      timer ??= setInterval(() => {
        void vaultReturn
          .check()
          .then(() => drain())
          .catch((err) => log.warn({ err: describe(err) }, 'revocation drain failed'));
      }, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      again = false;
      await running?.catch(() => undefined);
      await claims.close();
    },
  };
}

export type RevocationWorker = ReturnType<typeof createRevocationWorker>;
