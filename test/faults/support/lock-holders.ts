import { sql } from 'kysely';
import type { FaultWorld } from './fault-world';

/** server/revocation/job-claims.ts: a job's lock is the bigint 0x4752_4a00_0000_0000 + id (its high word here). */
const JOB_LOCK_HIGH_WORD = 0x4752_4a00;
/** server/audit/sequencer/sequencer-session.ts: the sequencer's lock is the int4 pair ("audt", 9162). */
const SEQUENCER_KEYS = [0x6175_6474, 9162] as const;
const POLL_MS = 20;

/** The session advisory locks held in the broker database, each with its holder's application_name. */
async function advisoryLocks(world: FaultWorld) {
  const r = await sql<{ classid: string; objid: string; objsubid: number; holder: string }>`
    select l.classid::bigint::text as classid, l.objid::bigint::text as objid, l.objsubid,
           a.application_name as holder
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted
       and l.database = (select oid from pg_database where datname = current_database())`.execute(
    world.db.db,
  );
  return r.rows;
}

export interface HeldLocks {
  /** Revocation jobs whose claim lock the holder has (job ids). */
  jobs: string[];
  /** Whether it leads the audit sequencer. */
  sequencer: boolean;
}

/** What the sessions named `holder` (one broker: see BrokerPair's application names) hold right now. */
export async function locksHeldBy(world: FaultWorld, holder: string): Promise<HeldLocks> {
  const mine = (await advisoryLocks(world)).filter((l) => l.holder === holder);
  return {
    jobs: mine
      .filter((l) => l.objsubid === 1 && Number(l.classid) === JOB_LOCK_HIGH_WORD)
      .map((l) => l.objid),
    sequencer: mine.some(
      (l) =>
        l.objsubid === 2 && Number(l.classid) === SEQUENCER_KEYS[0] && Number(l.objid) === SEQUENCER_KEYS[1],
    ),
  };
}

/** The application_name of the session leading the audit sequencer (undefined while nobody does). */
export async function sequencerHolder(world: FaultWorld): Promise<string | undefined> {
  const l = (await advisoryLocks(world)).find(
    (x) =>
      x.objsubid === 2 && Number(x.classid) === SEQUENCER_KEYS[0] && Number(x.objid) === SEQUENCER_KEYS[1],
  );
  return l?.holder;
}

/** A job as its claimer left it: the claim token it wrote, and when the job was due. */
export interface JobClaimSnapshot {
  id: string;
  claim: string | null;
  dueAt: Date;
}

export async function jobClaims(world: FaultWorld, ids: string[]): Promise<JobClaimSnapshot[]> {
  if (ids.length === 0) return [];
  const rows = await world.db.db
    .selectFrom('revocation_jobs')
    .select(['id', 'claim', 'due_at', 'status'])
    .where('id', 'in', ids)
    .where('status', '=', 'pending')
    .execute();
  return rows.map((r) => ({ id: String(r.id), claim: r.claim, dueAt: r.due_at }));
}

/** One takeover after a SIGKILL: of a revocation job (by its claim) or of the audit sequencer's lead. */
export interface Takeover {
  what: 'job' | 'sequencer';
  jobId?: string;
  victim: string;
  /** Milliseconds from the SIGKILL to the survivor's claim (null: nobody took it over within the watch). */
  ms: number | null;
  /** The application_name of the broker that took it over. */
  by?: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Watches a job the victim was running when it was killed until another worker's claim replaces the
 * victim's on the row. Undefined when the victim had let it go just before dying (finished it, or
 * rescheduled it for later): then nothing was held and there is nothing to take over.
 */
export async function watchJobTakeover(
  world: FaultWorld,
  job: JobClaimSnapshot,
  victim: string,
  killedAt: number,
  timeoutMs: number,
): Promise<Takeover | undefined> {
  while (Date.now() - killedAt < timeoutMs) {
    const row = await world.db.db
      .selectFrom('revocation_jobs')
      .select(['claim', 'status', 'due_at'])
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    if (row.claim !== job.claim) {
      const ms = Date.now() - killedAt;
      const by = (await advisoryLocks(world)).find((l) => l.objid === job.id && l.objsubid === 1)?.holder;
      return { what: 'job', jobId: job.id, victim, ms, by };
    }
    if (row.status === 'done' || row.due_at.getTime() > job.dueAt.getTime()) return undefined;
    await sleep(POLL_MS);
  }
  return { what: 'job', jobId: job.id, victim, ms: null };
}

/** Watches the sequencer's lock, led by `victim` when it was killed, until another session holds it. */
export async function watchSequencerTakeover(
  world: FaultWorld,
  victim: string,
  killedAt: number,
  timeoutMs: number,
): Promise<Takeover> {
  while (Date.now() - killedAt < timeoutMs) {
    const holder = await sequencerHolder(world);
    if (holder && holder !== victim)
      return { what: 'sequencer', victim, ms: Date.now() - killedAt, by: holder };
    await sleep(POLL_MS);
  }
  return { what: 'sequencer', victim, ms: null };
}
