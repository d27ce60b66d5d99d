import pMap from 'p-map';
import type { LeaseRow } from '../db/database';
import { InternalError } from '../shared/errors';
import type { ClaimedJob } from './job-claims';
import { describe, revokeAndVerify } from './lease-revoker';
import { createLeaseStateBatch } from './lease-state-batch';
import {
  countIrrevocableLeases,
  finishJob,
  type JobPayload,
  rescheduleJob,
  unrevokedLeases,
} from './revocation.repository';
import { revokeUnrecordedTaskTokens } from './unrecorded-task-token';
import type { WorkerDeps } from './worker.types';

/** Vault understood and refused (4xx): a few more tries, not the whole budget kept for outages. */
const PERMANENT_ATTEMPTS = 3;
/** From this many tokens in a job, one LIST of accessors is cheaper than a lookup each. */
const LIST_ACCESSORS_FROM = 32;

type Counts = { revoked: number; expired: number; retrying: number; irrevocable: number };
/** One lease pass of a job: its tallies, its pending state writes, and what the cascade left. */
type Pass = {
  counts: Counts;
  batch: ReturnType<typeof createLeaseStateBatch>;
  cascaded: boolean;
  liveAccessors?: ReadonlySet<string>;
};

type RunnerDeps = WorkerDeps & { backoffMs(attempts: number): number };

/** Runs one claimed job to its outcome for this attempt: done, or rescheduled with backoff. */
export function createJobRunner(deps: RunnerDeps) {
  const log = deps.logger;
  const concurrency = deps.concurrency ?? 16;

  async function settle(lease: LeaseRow, pass: Pass): Promise<string | null> {
    const { counts, batch } = pass;
    const outcome = await revokeAndVerify(deps, lease, deps.clock.now(), pass);
    const at = deps.clock.now();
    if (outcome.state !== 'error') {
      counts[outcome.state]++;
      const change = { state: outcome.state, at, verified: outcome.verified, error: outcome.note ?? null };
      await batch.add({ id: lease.id, ...change });
      return null;
    }
    const budget = outcome.permanent ? PERMANENT_ATTEMPTS : deps.maxAttempts;
    const irrevocable = lease.attempts + 1 >= budget;
    counts[irrevocable ? 'irrevocable' : 'retrying']++;
    const state = irrevocable ? 'irrevocable' : 'retrying';
    await batch.add({ id: lease.id, state, at, error: outcome.error, verified: false });
    if (irrevocable) {
      deps.metrics.irrevocable.inc({ kind: lease.kind });
      log.error(
        {
          alert: true,
          leaseId: lease.id,
          kind: lease.kind,
          taskId: lease.task_id,
          attempts: lease.attempts + 1,
          error: outcome.error,
        },
        'IRREVOCABLE: a Vault handle could not be revoked within its retry budget; an operator must act',
      );
    }
    return outcome.error;
  }

  /**
   * One LIST of Vault's token accessors, taken after the cascade, proves every tracked token absent from
   * it gone (thousands of lookups become one call). Also when the cascade call failed: a cascade of
   * 10,000 tokens outlasts the Vault timeout while Vault goes on revoking, and what it has not reached
   * yet is still listed and revoked one by one. Few tokens, or a failed LIST: each is looked up instead.
   */
  async function accessorsAfterCascade(leases: LeaseRow[]) {
    const tokens = leases.filter((l) => !l.vault_lease_id).length;
    if (tokens < LIST_ACCESSORS_FROM) return undefined;
    return deps.vault.listTokenAccessors().then(
      (accessors) => new Set(accessors),
      (err: unknown) =>
        void log.warn({ err: describe(err) }, 'listing token accessors failed; looking up each'),
    );
  }

  /** `cascaded`: the task token was just revoked, so its descendants are most likely gone already. */
  async function revokeAll(leases: LeaseRow[], cascaded: boolean) {
    const liveAccessors = await accessorsAfterCascade(leases);
    const pass: Pass = {
      counts: { revoked: 0, expired: 0, retrying: 0, irrevocable: 0 },
      batch: createLeaseStateBatch(deps.db),
      cascaded,
      ...(liveAccessors ? { liveAccessors } : {}),
    };
    let lastError: string | null = null;
    await pMap(leases, async (lease) => (lastError = (await settle(lease, pass)) ?? lastError), {
      concurrency,
    });
    await pass.batch.flush();
    return { counts: pass.counts, lastError: lastError as string | null };
  }

  /** Custody copies of dead tokens are overwritten (outside any transaction); a failure is only logged. */
  async function discardCustody(job: ClaimedJob, grantIds: string[]) {
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
  }

  async function finish(job: ClaimedJob, payload: JobPayload, grantIds: string[]) {
    await discardCustody(job, grantIds);
    await deps.uow.run({}, async (w) => {
      // Fenced: a worker that lost its claim meanwhile must not finish the job a second time.
      if (!(await finishJob(w.tx, { id: job.id, claim: job.claim, now: w.now })))
        throw new InternalError(`revocation job ${job.id} was taken over by another worker`);
      if (job.kind === 'revoke_task') await deps.finishTask(w, job.task_id, payload.finalStatus ?? 'closed');
      w.audit({
        type: job.kind === 'revoke_task' ? 'task.closed' : 'revocation.done',
        taskId: job.task_id,
        grantId: job.grant_id,
        principal: null,
        payload: {
          job_id: job.id,
          attempts: job.attempts,
          irrevocable_leases: await countIrrevocableLeases(w.tx, job.task_id),
          ...(job.kind === 'revoke_task' ? { status: payload.finalStatus ?? 'closed' } : {}),
        },
      });
    });
  }

  async function recordAttempt(job: ClaimedJob, counts: Counts, error: string | null) {
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
  }

  /**
   * Database logins first: their lockout needs only the database, so a Vault that is down or slow does not
   * delay it (each is locked out again, and proved dead, with its lease below; a failure here is retried there).
   */
  async function lockOutLogins(leases: LeaseRow[]) {
    const logins = leases.filter((l) => l.db_role && l.db_target && deps.targets?.has(l.db_target));
    await pMap(logins, (l) => deps.targets!.lockOut(l.db_target!, l.db_role!).catch(() => undefined), {
      concurrency,
    });
  }

  /**
   * The task token first (after the logins): Vault cascades to every grant token and lease under it, so the explicit pass
   * mostly confirms (the token is a lease row of its own, so a failure here is retried there). A task
   * whose token was never recorded has it found by its metadata; an error there keeps the job pending.
   */
  async function revokeTaskToken(
    job: ClaimedJob,
    payload: JobPayload,
  ): Promise<{ error: string | null; cascaded: boolean }> {
    if (!payload.taskTokenAccessor)
      return revokeUnrecordedTaskTokens(deps.vault, job.task_id).then(
        () => ({ error: null, cascaded: false }),
        (err: unknown) => ({ error: `unrecorded task token: ${describe(err)}`, cascaded: false }),
      );
    const cascaded = await deps.vault.revokeTokenByAccessor(payload.taskTokenAccessor).then(
      () => true,
      (err: unknown) => {
        log.warn({ jobId: job.id, err: describe(err) }, 'task token cascade failed; revoking each handle');
        return false;
      },
    );
    return { error: null, cascaded };
  }

  /** Runs one attempt; true when the job was rescheduled (something is left to revoke). */
  return async function runJob(job: ClaimedJob): Promise<boolean> {
    const payload = job.payload as JobPayload;
    const grantIds = job.kind === 'revoke_grants' ? (payload.grantIds ?? []) : [];
    const leases = await unrevokedLeases(deps.db, {
      taskId: job.task_id,
      ...(job.kind === 'revoke_grants' ? { grantIds } : {}),
    });
    await lockOutLogins(leases);
    const taskToken =
      job.kind === 'revoke_task' ? await revokeTaskToken(job, payload) : { error: null, cascaded: false };
    const unrecorded = taskToken.error;
    const revoked = await revokeAll(leases, taskToken.cascaded);
    const { counts } = revoked;
    if (unrecorded) counts.retrying++;
    const lastError = unrecorded ?? revoked.lastError;
    deps.metrics.revocationJobs.inc({ kind: job.kind, outcome: counts.retrying ? 'retry' : 'done' });
    await recordAttempt(job, counts, lastError);
    if (counts.retrying === 0) {
      await deps
        .sweepLostLogins?.()
        .catch((err: unknown) =>
          log.warn({ jobId: job.id, err: describe(err) }, 'lost-login sweep failed; reconciliation retries'),
        );
      await finish(job, payload, grantIds);
      return false;
    }
    const dueAt = new Date(deps.clock.now().getTime() + deps.backoffMs(job.attempts));
    if (!(await rescheduleJob(deps.db, { id: job.id, claim: job.claim, dueAt, error: lastError })))
      log.warn({ jobId: job.id }, 'revocation job taken over by another worker; not rescheduled here');
    log.warn(
      {
        jobId: job.id,
        taskId: job.task_id,
        attempt: job.attempts,
        retrying: counts.retrying,
        error: lastError,
      },
      'revocation incomplete, will retry',
    );
    return true;
  };
}
