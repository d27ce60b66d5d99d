import pMap from 'p-map';
import type { DomainUnitOfWork, DomainWork } from '../access/unit';
import type { Db, JobRow, LeaseRow } from '../db/database';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { TokenCustody, VaultAdapter } from '../vault';
import { describe, revokeAndConfirm } from './lease-revoker';
import {
  claimDueJobs,
  countFailedLeases,
  finishJob,
  type JobPayload,
  rescheduleJob,
  setLeaseState,
  unrevokedLeases,
} from './revocation.repository';

export interface WorkerDeps {
  db: Db;
  uow: DomainUnitOfWork;
  /** The task's close is complete: closing → closed/expired (the tasks module, wired at composition). */
  finishTask(w: DomainWork, taskId: string, status: 'closed' | 'expired'): Promise<void>;
  /** The grants of a job whose token values were kept in custody (the grants module decides). */
  grantsInCustody(q: { taskId: string } | { grantIds: string[] }): Promise<string[]>;
  vault: VaultAdapter;
  custody: TokenCustody;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  maxAttempts: number;
  concurrency?: number;
}

const VISIBILITY_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;

export function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Drains the revocation outbox: revokes task tokens (Vault cascades to every child), then each tracked
 * lease and token explicitly, confirming with a lookup; reschedules with backoff while anything is left,
 * and finishes the task's close once everything is confirmed. Any number of brokers may run this.
 */
export function createRevocationWorker(deps: WorkerDeps) {
  const log = deps.logger.child({ module: 'revocation' });
  const concurrency = deps.concurrency ?? 16;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;

  async function revokeLeases(leases: LeaseRow[], now: Date) {
    const counts = { revoked: 0, expired: 0, retrying: 0, failed: 0 };
    let lastError: string | null = null;
    await pMap(
      leases,
      async (lease) => {
        const outcome = await revokeAndConfirm(deps.vault, lease, now);
        if (outcome.state !== 'error') {
          counts[outcome.state]++;
          await setLeaseState(deps.db, lease.id, { state: outcome.state, at: deps.clock.now() });
          return;
        }
        lastError = outcome.error;
        const state = lease.attempts + 1 >= deps.maxAttempts ? 'failed' : 'retrying';
        counts[state]++;
        await setLeaseState(deps.db, lease.id, { state, at: deps.clock.now(), error: outcome.error });
      },
      { concurrency },
    );
    return { counts, lastError: lastError as string | null };
  }

  async function finish(job: JobRow, payload: JobPayload, grantIds: string[]) {
    // The token values in custody are dead now; overwrite them (in parallel, before the transaction:
    // no Vault call runs inside one). A failure only leaves a revoked token's value behind: logged.
    const discard = (kind: 'task' | 'grant', id: string) =>
      deps.custody
        .discard(kind, id)
        .catch((err) => log.warn({ kind, id, err: describe(err) }, 'custody discard failed'));
    const kept =
      job.kind === 'revoke_task'
        ? await deps.grantsInCustody({ taskId: job.task_id })
        : grantIds.length
          ? await deps.grantsInCustody({ grantIds })
          : [];
    await pMap(kept, (id) => discard('grant', id), { concurrency });
    if (job.kind === 'revoke_task') await discard('task', job.task_id);
    await deps.uow.run({}, async (w) => {
      if (job.kind === 'revoke_task') await deps.finishTask(w, job.task_id, payload.finalStatus ?? 'closed');
      await finishJob(w.tx, job.id, w.now);
      w.audit({
        type: job.kind === 'revoke_task' ? 'task.closed' : 'revocation.done',
        taskId: job.task_id,
        grantId: job.grant_id,
        principal: null,
        payload: {
          job_id: job.id,
          attempts: job.attempts,
          failed_leases: await countFailedLeases(w.tx, job.task_id),
          ...(job.kind === 'revoke_task' ? { status: payload.finalStatus ?? 'closed' } : {}),
        },
      });
    });
  }

  async function processJob(job: JobRow): Promise<void> {
    const payload = job.payload as JobPayload;
    const now = deps.clock.now();
    const grantIds = job.kind === 'revoke_grants' ? (payload.grantIds ?? []) : [];
    // The task token first: Vault then cascades to every grant token and lease under it, so the explicit
    // per-lease pass below mostly confirms. (A subtree's grant tokens are leases rows of their own.)
    let stepError: string | null = null;
    try {
      if (job.kind === 'revoke_task' && payload.taskTokenAccessor)
        await deps.vault.revokeTokenByAccessor(payload.taskTokenAccessor);
    } catch (err) {
      stepError = describe(err);
    }
    const leases = await unrevokedLeases(deps.db, {
      taskId: job.task_id,
      ...(job.kind === 'revoke_grants' ? { grantIds } : {}),
    });
    const { counts, lastError } = await revokeLeases(leases, now);
    const error = stepError ?? lastError;
    const outstanding = counts.retrying + counts.failed;
    deps.metrics.revocationJobs.inc({ kind: job.kind, outcome: outstanding || stepError ? 'retry' : 'done' });
    await deps.uow.run({}, async (w) =>
      w.audit({
        type: 'revocation.attempt',
        taskId: job.task_id,
        grantId: job.grant_id,
        principal: null,
        payload: {
          job_id: job.id,
          kind: job.kind,
          attempt: job.attempts,
          ...counts,
          ...(error ? { error } : {}),
        },
      }),
    );
    // Close is durable (DESIGN): a job never gives up. Past the retry budget its leases show `failed` in
    // the receipt (an operator should look), but they stay in the retry set at the longest backoff.
    if (outstanding > 0 || stepError) {
      await rescheduleJob(
        deps.db,
        job.id,
        new Date(deps.clock.now().getTime() + backoffMs(job.attempts)),
        error,
      );
      log.warn(
        { jobId: job.id, taskId: job.task_id, attempt: job.attempts, retrying: outstanding, error },
        'revocation incomplete, will retry',
      );
      return;
    }
    await finish(job, payload, grantIds);
  }

  /** Processes every job that is due now; returns how many were handled. */
  async function drainOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const jobs = await claimDueJobs(deps.db, {
        now: deps.clock.now(),
        limit: 8,
        visibilityMs: VISIBILITY_MS,
      });
      if (jobs.length === 0) return handled;
      await Promise.all(
        jobs.map((job) =>
          processJob(job).catch((err) =>
            log.error({ jobId: job.id, err: describe(err) }, 'revocation job crashed'),
          ),
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
        void drain();
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
        void drain().catch((err) => log.warn({ err: describe(err) }, 'revocation drain failed'));
      }, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      again = false;
      await running?.catch(() => undefined);
    },
  };
}

export type RevocationWorker = ReturnType<typeof createRevocationWorker>;
