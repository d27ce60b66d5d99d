import { type RawBuilder, sql } from 'kysely';
import type { DbOrTx, JobRow, LeaseKind, LeaseRow, LeaseState, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';

/** The only writer of `revocation_jobs` (the outbox) and `leases` (every Vault handle); the feed has feed.repository.ts. */

export type JobKind = 'revoke_task' | 'revoke_grants';

export interface JobPayload {
  /** revoke_task: what the task becomes once everything is confirmed revoked. */
  finalStatus?: 'closed' | 'expired';
  taskTokenAccessor?: string | null;
  /** revoke_grants: the grants whose tokens and leases to revoke. */
  grantIds?: string[];
}

export async function enqueueJob(
  tx: Tx,
  job: { taskId: string; grantId?: string | null; kind: JobKind; payload: JobPayload; dueAt: Date },
): Promise<void> {
  await tx
    .insertInto('revocation_jobs')
    .values({
      task_id: job.taskId,
      grant_id: job.grantId ?? null,
      kind: job.kind,
      payload: JSON.stringify(job.payload),
      due_at: job.dueAt,
    })
    .execute();
}

/** Due, pending jobs (oldest first): candidates a worker then tries to claim. */
/**
 * Due pending jobs, oldest first, leaving out those whose advisory lock (`lockBase` + id) some session
 * holds: jobs running elsewhere (or here) never fill the window, so a poll sees the jobs it can take.
 */
export async function dueJobIds(
  db: DbOrTx,
  q: { now: Date; limit: number; lockBase: bigint },
): Promise<string[]> {
  const r = await sql<{ id: string }>`
    select j.id from revocation_jobs j
    where j.status = 'pending' and j.due_at <= ${q.now}
      and not exists (
        select 1 from pg_locks l
        where l.locktype = 'advisory' and l.objsubid = 1 and l.granted
          and ((l.classid::bigint << 32) | l.objid::bigint) = ${q.lockBase.toString()}::bigint + j.id
      )
    order by j.due_at
    limit ${q.limit}`.execute(db);
  return r.rows.map((row) => row.id);
}

/** Marks a job claimed by `claim` (the fence every later write of this worker must present). */
export async function fenceJob(
  db: DbOrTx,
  q: { id: string; claim: string; now: Date },
): Promise<JobRow | undefined> {
  const r = await sql<JobRow>`
    update revocation_jobs set attempts = attempts + 1, claim = ${q.claim}
    where id = ${q.id} and status = 'pending' and due_at <= ${q.now}
    returning *`.execute(db);
  return r.rows[0];
}

/** Reschedules a job; false when the job is no longer this claim's (another worker took it over). */
export async function rescheduleJob(
  db: DbOrTx,
  q: { id: string; claim: string; dueAt: Date; error: string | null },
): Promise<boolean> {
  const r = await db
    .updateTable('revocation_jobs')
    .set({ due_at: q.dueAt, last_error: q.error })
    .where('id', '=', q.id)
    .where('claim', '=', q.claim)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Handles still to revoke or to prove gone: active or retrying ones, and ones that expired on their own
 * but were never verified (irrevocable ones are given up on). Of a whole task, or of some grants.
 */
export async function unrevokedLeases(
  db: DbOrTx,
  q: { taskId: string; grantIds?: string[] },
): Promise<LeaseRow[]> {
  let query = db
    .selectFrom('leases')
    .selectAll()
    .where('task_id', '=', q.taskId)
    .where((eb) =>
      eb.or([
        eb('state', 'in', ['active', 'retrying']),
        eb.and([eb('state', '=', 'expired'), eb('verified_at', 'is', null)]),
      ]),
    )
    .orderBy('created_at');
  if (q.grantIds)
    query = query.where(
      'grant_id',
      'in',
      q.grantIds.length ? q.grantIds : ['00000000-0000-0000-0000-000000000000'],
    );
  return query.execute();
}

/**
 * Pending jobs backing off become due now (Vault is reachable again after failing them), so none waits
 * out the rest of its backoff. Returns how many.
 */
export async function hurryWaitingJobs(db: DbOrTx, now: Date): Promise<number> {
  const r = await db
    .updateTable('revocation_jobs')
    .set({ due_at: now })
    .where('status', '=', 'pending')
    .where('due_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Marks the job done; false when it is no longer this claim's (then the caller's unit must roll back). */
export async function finishJob(tx: Tx, q: { id: string; claim: string; now: Date }): Promise<boolean> {
  const r = await tx
    .updateTable('revocation_jobs')
    .set({ status: 'done', done_at: q.now, last_error: null })
    .where('id', '=', q.id)
    .where('claim', '=', q.claim)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function countIrrevocableLeases(db: DbOrTx, taskId: string): Promise<number> {
  const rows = await db
    .selectFrom('leases')
    .select('id')
    .where('task_id', '=', taskId)
    .where('state', '=', 'irrevocable')
    .execute();
  return rows.length;
}

/** A Vault handle to track (and revoke): a token by accessor or a lease by id. */
export interface TrackedHandle {
  kind: LeaseKind;
  scope: string | null;
  leaseId?: string | undefined;
  accessor?: string | undefined;
  expiresAt: Date;
  /** A database login the lease opened, and the target it lives on. */
  dbRole?: string | undefined;
  dbTarget?: string | undefined;
}

const leaseRows = (q: { taskId: string; grantId: string | null; handles: TrackedHandle[] }) =>
  q.handles.map((h) => ({
    task_id: q.taskId,
    grant_id: q.grantId,
    scope: h.scope,
    kind: h.kind,
    vault_lease_id: h.leaseId ?? null,
    vault_token_accessor: h.accessor ?? null,
    expires_at: h.expiresAt,
    db_role: h.dbRole ?? null,
    db_target: h.dbTarget ?? null,
  }));

/** The insert as a step of a one-statement unit (db/one-statement.ts); rows typed by the table itself. */
export function insertLeasesStep(q: {
  taskId: string;
  grantId: string | null;
  handles: TrackedHandle[];
  /** Inserted only when this holds (the state change they belong to happened in the same statement). */
  when?: RawBuilder<boolean>;
}): Cte {
  const columns = sql.raw(
    'task_id, grant_id, scope, kind, vault_lease_id, vault_token_accessor, expires_at, db_role, db_target',
  );
  return cte(
    'leases_row',
    sql`insert into leases (${columns})
    select ${columns} from json_populate_recordset(null::leases, ${JSON.stringify(leaseRows(q))}::json)
    where ${q.when ?? sql<boolean>`true`}
    returning id`,
  );
}

export async function insertLeases(
  tx: Tx,
  q: { taskId: string; grantId: string | null; handles: TrackedHandle[] },
): Promise<void> {
  if (q.handles.length === 0) return;
  await tx.insertInto('leases').values(leaseRows(q)).execute();
}

/** Leases of grants that expired on their own: Vault lets them lapse; the receipt says `expired`. */
export async function expireLeasesOfGrants(tx: Tx, grantIds: string[], now: Date): Promise<void> {
  if (grantIds.length === 0) return;
  await tx
    .updateTable('leases')
    .set({ state: 'expired', revoked_at: now })
    .where('grant_id', 'in', grantIds)
    .where('state', '=', 'active')
    .execute();
}

export async function leasesOfTask(db: DbOrTx, taskId: string): Promise<LeaseRow[]> {
  return db.selectFrom('leases').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();
}

export async function jobsOfTask(db: DbOrTx, taskId: string) {
  return db
    .selectFrom('revocation_jobs')
    .select(['id', 'kind', 'status', 'attempts', 'last_error', 'due_at'])
    .where('task_id', '=', taskId)
    .execute();
}

/**
 * What may legitimately be alive: the token of every open task, and the handles of every pending or
 * active grant (a pending grant is being minted right now). By task/grant id, lease id, accessor, login.
 */
export async function liveHandles(db: DbOrTx) {
  const rows = await sql<{
    vault_lease_id: string | null;
    vault_token_accessor: string | null;
    db_role: string | null;
  }>`
    select l.vault_lease_id, l.vault_token_accessor, l.db_role
    from leases l
    join tasks t on t.id = l.task_id
    left join grants g on g.id = l.grant_id
    where l.state = 'active'
      and ((l.grant_id is null and t.status = 'open') or g.status in ('pending', 'active'))`.execute(db);
  const tasks = await sql<{ id: string }>`select id from tasks where status = 'open'`.execute(db);
  const grants = await sql<{
    id: string;
  }>`select id from grants where status in ('pending', 'active')`.execute(db);
  return {
    leaseIds: new Set(rows.rows.map((r) => r.vault_lease_id).filter((x): x is string => x !== null)),
    accessors: new Set(rows.rows.map((r) => r.vault_token_accessor).filter((x): x is string => x !== null)),
    dbRoles: new Set(rows.rows.map((r) => r.db_role).filter((x): x is string => x !== null)),
    openTasks: new Set(tasks.rows.map((r) => r.id)),
    liveGrants: new Set(grants.rows.map((r) => r.id)),
  };
}

/** A handle reconciliation revoked: the rows still retrying or given up on that name it are settled. */
export async function settleReconciled(
  db: DbOrTx,
  q: { column: 'vault_token_accessor' | 'vault_lease_id' | 'db_role'; value: string; at: Date },
): Promise<void> {
  await db
    .updateTable('leases')
    .set({ state: 'revoked', revoked_at: q.at, verified_at: q.at, last_error: 'revoked by reconciliation' })
    .where(q.column, '=', q.value)
    .where('state', 'in', ['retrying', 'irrevocable'])
    .execute();
}

/** One lease's outcome of an attempt, for `setLeaseStates` (each counts as an attempt). */
export interface LeaseStateChange {
  id: string;
  state: LeaseState;
  at: Date;
  error: string | null;
  verified: boolean;
}

/** The outcomes of a lease pass, in one statement (the worker settles thousands per task). */
export async function setLeaseStates(db: DbOrTx, changes: readonly LeaseStateChange[]): Promise<void> {
  if (changes.length === 0) return;
  const col = <T>(pick: (c: LeaseStateChange) => T) => changes.map(pick);
  await sql`
    update leases l set state = c.state, last_error = c.error, attempts = l.attempts + 1,
      revoked_at = case when c.state in ('revoked', 'expired') then c.at end,
      verified_at = case when c.verified then c.at else l.verified_at end
    from unnest(${col((c) => c.id)}::uuid[], ${col((c) => c.state)}::text[], ${col((c) => c.error)}::text[],
      ${col((c) => c.at.toISOString())}::timestamptz[], ${col((c) => c.verified)}::boolean[])
      as c(id, state, error, at, verified)
    where l.id = c.id`.execute(db);
}

/**
 * In ONE snapshot (an activation turns its grant active and inserts its lease rows in one commit): which
 * of `roles` a lease row tracks (in any state: the revocation job owns those), and when the oldest grant
 * still being minted (pending) was reserved.
 */
export async function loginHolders(db: DbOrTx, roles: string[]) {
  const r = await sql<{ tracked: string[] | null; oldest_pending: Date | null }>`
    select (select array_agg(distinct db_role) from leases where db_role = any(${roles}::text[])) as tracked,
           (select min(issued_at) from grants where status = 'pending') as oldest_pending`.execute(db);
  const row = r.rows[0]!;
  return { tracked: new Set(row.tracked ?? []), oldestPending: row.oldest_pending };
}
