import { type ClaimedJob, createJobClaims } from './job-claims';
import { createJobRunner } from './job-runner';
import { describe } from './lease-revoker';
import { createVaultReturnWatch } from './vault-return';
import type { WorkerDeps } from './worker.types';

export type { WorkerDeps };

const MAX_BACKOFF_MS = 60_000;
const JOBS_PER_CLAIM = 8;
/** Jobs one worker runs at once; beyond it, due jobs wait for a slot (or for another broker). */
const MAX_JOBS_IN_FLIGHT = 32;

export function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Drains the revocation outbox: claims due jobs (any number of brokers may run this; a dead broker's
 * claims fall to the others within one poll), revokes and verifies every handle, reschedules with backoff
 * while anything is left, and finishes the task's close once everything is proved gone. Claiming never
 * waits for the jobs already running: a job stuck on a slow Vault must not keep this worker from taking
 * over a dead broker's job (issue 11 §4: within 2 s), whose first step locks the logins out.
 */
export function createRevocationWorker(deps: WorkerDeps) {
  const log = deps.logger.child({ module: 'revocation' });
  const claims = createJobClaims({ db: deps.db, connect: deps.connect, logger: log });
  const run = createJobRunner({ ...deps, logger: log, backoffMs });
  const vaultReturn = createVaultReturnWatch({ ...deps, logger: log });
  const inFlight = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let claiming: Promise<number> | undefined;

  function launch(job: ClaimedJob): void {
    const done = run(job)
      .then((rescheduled) => {
        if (rescheduled) vaultReturn.jobWaits();
      })
      .catch((err) => log.error({ jobId: job.id, err: describe(err) }, 'revocation job crashed'))
      .finally(() => claims.release(job.id))
      .finally(() => inFlight.delete(job.id));
    inFlight.set(job.id, done);
  }

  /** Claims due jobs while there is room and starts each; never waits for them. Returns how many. */
  function claimDue(): Promise<number> {
    claiming ??= (async () => {
      let started = 0;
      for (;;) {
        const room = Math.min(JOBS_PER_CLAIM, MAX_JOBS_IN_FLIGHT - inFlight.size);
        if (room <= 0) return started;
        const jobs = await claims.claimDue(deps.clock.now(), room);
        for (const job of jobs) launch(job);
        started += jobs.length;
        if (jobs.length < room) return started;
      }
    })().finally(() => {
      claiming = undefined;
    });
    return claiming;
  }

  /** Processes every job that is due now and waits for them (tests, admin paths); returns how many. */
  async function drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const started = await claimDue();
      handled += started;
      if (started === 0 && inFlight.size === 0) return handled;
      await Promise.all(inFlight.values());
    }
  }

  const claimInBackground = () =>
    claimDue().catch((err) => log.warn({ err: describe(err) }, 'revocation claim failed'));

  return {
    drain,
    /** Ask for a drain now (after a close commits) instead of waiting for the next tick. */
    kick(): void {
      void claimInBackground();
    },
    start(): void {
      // The Vault probe may hang while Vault does: it never holds up the claim of this tick.
      timer ??= setInterval(() => {
        void claimInBackground();
        void vaultReturn
          .check()
          .then((hurried) => (hurried ? claimInBackground() : undefined))
          .catch((err) => log.warn({ err: describe(err) }, 'revocation drain failed'));
      }, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await claiming?.catch(() => undefined);
      await Promise.all(inFlight.values());
      await claims.close();
    },
  };
}

export type RevocationWorker = ReturnType<typeof createRevocationWorker>;
