import type { BrokerPair } from './broker-pair';
import { auditSequencedToEnd } from './done-once';
import { DB_SCOPE, type FaultWorld, KV_SCOPE } from './fault-world';
import { locksHeldBy } from './lock-holders';
import { loginsOf, story } from './story';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A task with a database grant (and a KV secret) opened on broker `via`: what a close then revokes. */
async function taskWithLogin(pair: BrokerPair, via: number) {
  const b = await pair.broker(via);
  const opened = await story.open(b);
  if (opened.status !== 201) throw new Error(`open: ${opened.status}`);
  const grant = await story.grant(b, opened.body.id, [DB_SCOPE, KV_SCOPE]);
  if (grant.status !== 201) throw new Error(`grant: ${grant.status}`);
  return { taskId: opened.body.id as string, minted: loginsOf(grant.body) };
}

/** Vault stays silent this long after the kill: longer than the 2 s a takeover may take. */
const STALL_AFTER_KILL_MS = 2500;

async function closeOk(pair: BrokerPair, via: number, taskId: string): Promise<void> {
  const closed = await story.close(await pair.broker(via), taskId);
  if (closed.status !== 200) throw new Error(`close: ${closed.status}`);
}

/** The slot whose broker holds the claim on the task's close job (undefined while nobody does). */
async function jobHolder(world: FaultWorld, pair: BrokerPair, taskId: string) {
  const job = await world.db.db
    .selectFrom('revocation_jobs')
    .select('id')
    .where('task_id', '=', taskId)
    .where('kind', '=', 'revoke_task')
    .executeTakeFirst();
  if (!job) return undefined;
  for (const i of [0, 1])
    if ((await locksHeldBy(world, pair.nameOf(i))).jobs.includes(String(job.id))) return i;
  return undefined;
}

/** Closes whose jobs Vault's silence keeps busy, spread over both brokers (and their cluster workers). */
const BUSY_CLOSES = 6;

/**
 * The broker running a close's revocation job dies mid-job while the survivor is busy with jobs of its
 * own: Vault's answers are held back (the proxy's stall), so every job is stuck in Vault after locking
 * its logins out. Then one more task is closed on broker `victim`, which must claim its job at once
 * (its logins must not wait for the stuck jobs), and is SIGKILLed; Vault stays silent for 2.5 s more.
 * The survivor must take the orphaned job over within 2 s all the same (BrokerPair watches the claim).
 */
export async function killMidJob(pair: BrokerPair, world: FaultWorld, victim: number) {
  const busy = [];
  for (let i = 0; i < BUSY_CLOSES; i++) busy.push({ via: i % 2, ...(await taskWithLogin(pair, i % 2)) });
  const orphan = await taskWithLogin(pair, victim);
  world.proxy.stall('answers');
  try {
    for (const t of busy) await closeOk(pair, t.via, t.taskId);
    for (const t of busy)
      await until('every busy job is claimed', 5000, () => jobHolder(world, pair, t.taskId));
    await closeOk(pair, victim, orphan.taskId);
    const holder = await until('a broker claims the orphan job while the others wait on Vault', 3000, () =>
      jobHolder(world, pair, orphan.taskId),
    );
    const survivorJobs = (await locksHeldBy(world, pair.nameOf(1 - holder))).jobs.length;
    await pair.killSlot(holder, {
      point: 'revocation',
      afterKill: async () => {
        await sleep(STALL_AFTER_KILL_MS);
        await world.proxy.up();
      },
    });
    return { minted: [...busy, orphan].flatMap((t) => t.minted), victim: holder, survivorJobs };
  } finally {
    await world.proxy.up();
  }
}

/**
 * The audit sequencer's leader is SIGKILLed while the other broker keeps writing events: the survivor
 * must lead within 2 s (BrokerPair watches the lock), and every event since must become a leaf under a
 * signed checkpoint. Returns the milliseconds from the kill until the log was sequenced to its end again.
 * The victim stays down (the last kill of a run): the survivor alone finishes the story.
 */
export async function killSequencerLeader(pair: BrokerPair, world: FaultWorld) {
  const leader = await until('a broker leads the sequencer', 5000, () => pair.sequencerSlot());
  const survivor = await pair.broker(1 - leader);
  let taskId = '';
  let sequencedAfterMs = -1;
  await pair.killSlot(leader, {
    restart: false,
    afterKill: async () => {
      const killedAt = Date.now();
      // Events committed while nobody leads: the new leader must sequence them too.
      const opened = await story.open(survivor);
      if (opened.status !== 201) throw new Error(`open on the survivor: ${opened.status}`);
      taskId = opened.body.id;
      await until('the log sequenced to its end', 5000, async () => {
        const s = await auditSequencedToEnd(world);
        return s.events === s.leaves && s.signed === s.leaves ? s : undefined;
      });
      sequencedAfterMs = Date.now() - killedAt;
    },
  });
  return { leader, taskId, sequencedAfterMs };
}
