import type { BrokerPair } from './broker-pair';
import { auditSequencedToEnd } from './done-once';
import { DB_SCOPE, type FaultWorld, KV_SCOPE } from './fault-world';
import type { MintedLogin } from './invariants';
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

/**
 * The broker running a close's revocation job dies mid-job: Vault's answers are held back (the proxy's
 * stall), so the job is stuck in Vault after locking the logins out; the broker holding its claim is
 * SIGKILLed, Vault answers again, and the survivor must take the job over (BrokerPair watches the claim).
 */
export async function killMidJob(
  pair: BrokerPair,
  world: FaultWorld,
  via: number,
): Promise<{ taskId: string; minted: MintedLogin[]; holder: number }> {
  const { taskId, minted } = await taskWithLogin(pair, via);
  world.proxy.stall('answers');
  try {
    const closed = await story.close(await pair.broker(via), taskId);
    if (closed.status !== 200) throw new Error(`close: ${closed.status}`);
    const holder = await until('a broker claims the close job', 5000, async () => {
      for (const i of [0, 1]) if ((await locksHeldBy(world, pair.nameOf(i))).jobs.length > 0) return i;
      return undefined;
    });
    await pair.killSlot(holder, { point: 'revocation', afterKill: () => world.proxy.up() });
    return { taskId, minted, holder };
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
