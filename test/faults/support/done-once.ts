import { sql } from 'kysely';
import type { FaultWorld } from './fault-world';

/** The audit events that end a revocation job (server/revocation/job-runner.ts, `finish`). */
const FINISH_TYPES = ['task.closed', 'revocation.done'];

async function rows<T>(world: FaultWorld, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(world.db.db)).rows;
}

/**
 * Whether every revocation job ran to completion exactly once in effect, from the database and the audit
 * log that both brokers wrote: each job done, finished by one event (never two, never none), no attempt
 * number recorded twice, no task closed twice or its close recorded twice, no grant revoked twice, and
 * every lease revoked (or expired) and proved dead. Each list is empty when all is well.
 */
export async function revocationLedger(world: FaultWorld) {
  return {
    jobsNotDone: await rows(
      world,
      sql<{ id: string; kind: string; status: string; attempts: number; last_error: string | null }>`
        select id::text, kind, status, attempts, last_error from revocation_jobs where status <> 'done'`,
    ),
    finishedTwice: await rows(
      world,
      sql<{ job_id: string; n: number }>`
        select payload->>'job_id' as job_id, count(*)::int as n from audit_events
         where type = any(${FINISH_TYPES}) group by 1 having count(*) > 1`,
    ),
    doneWithoutFinish: await rows(
      world,
      sql<{ id: string }>`
        select j.id::text from revocation_jobs j where j.status = 'done' and not exists (
          select 1 from audit_events e where e.type = any(${FINISH_TYPES}) and e.payload->>'job_id' = j.id::text)`,
    ),
    attemptRecordedTwice: await rows(
      world,
      sql<{ job_id: string; attempt: string; n: number }>`
        select payload->>'job_id' as job_id, payload->>'attempt' as attempt, count(*)::int as n
          from audit_events where type = 'revocation.attempt' group by 1, 2 having count(*) > 1`,
    ),
    taskEventTwice: await rows(
      world,
      sql<{ task_id: string; type: string; n: number }>`
        select task_id::text, type, count(*)::int as n from audit_events
         where type in ('task.opened', 'task.closing', 'task.closed', 'task.expired')
         group by 1, 2 having count(*) > 1`,
    ),
    grantRevokedTwice: await rows(
      world,
      sql<{ grant_id: string; n: number }>`
        select grant_id::text, count(*)::int as n from audit_events where type = 'grant.revoked'
         group by 1 having count(*) > 1`,
    ),
    leasesNotProvedDead: await rows(
      world,
      sql<{ id: string; kind: string; state: string; last_error: string | null }>`
        select id::text, kind, state, last_error from leases
         where state not in ('revoked', 'expired') or verified_at is null`,
    ),
  };
}

/** The figures behind the ledger: jobs run, how many took more than one claim, attempts in all. */
export async function jobFigures(world: FaultWorld) {
  const [r] = await rows(
    world,
    sql<{ jobs: number; retaken: number; attempts: number; finishes: number }>`
      select count(*)::int as jobs, count(*) filter (where attempts > 1)::int as retaken,
             coalesce(sum(attempts), 0)::int as attempts,
             (select count(*)::int from audit_events where type = any(${FINISH_TYPES})) as finishes
        from revocation_jobs`,
  );
  return r!;
}

/** Whether the audit log is sequenced to its end: every event a leaf, the newest checkpoint covering all. */
export async function auditSequencedToEnd(world: FaultWorld) {
  const [r] = await rows(
    world,
    sql<{ events: number; leaves: number; signed: number }>`
      select (select count(*)::int from audit_events) as events,
             (select count(*)::int from audit_leaves) as leaves,
             (select coalesce(max(tree_size), 0)::int from audit_checkpoints) as signed`,
  );
  return r!;
}
