import { randomUUID } from 'node:crypto';
import { RESOURCE } from '../../helpers/broker';
import type { BrokerPair } from './broker-pair';
import type { BrokerProcess } from './broker-process';
import { DB_SCOPE, type FaultWorld, KV_SCOPE } from './fault-world';
import type { MintedLogin } from './invariants';
import { loginsOf, story } from './story';

type Answer = { status: number; body: any };

/** One limit raced for from both brokers at once: K slots, N > K requests split between them. */
export interface Race {
  limit: 'max_grants' | 'max_active' | 'budget' | 'max_fanout' | 'max_actions';
  k: number;
  n: number;
  /** The task's limits (beyond story.open's defaults). */
  limits: Record<string, number>;
  scopes: string[];
  /** SIGKILL broker a this many ms after the requests are fired (then restart it). */
  killAfterMs?: number;
}

export interface RaceOutcome {
  limit: Race['limit'];
  k: number;
  n: number;
  taskId: string;
  /** How many requests came back with each status ("crashed": no answer, the broker died under it). */
  statuses: Record<string, number>;
  /** What the race handed out: grants or offers answered 201, actions counted. */
  won: number;
  /** Refusals that were not the documented 429 naming this limit (409 for a spent action pool). */
  wrongRefusals: Answer[];
  /** After a kill: the requests lost with the victim, sent again to the survivor. */
  retried: Record<string, number>;
  minted: MintedLogin[];
}

const now = () => new Date().toISOString();

/** What one request of the race is, given the task (and its first grant, for offers and usage). */
function requestFor(race: Race, taskId: string, parentId: string | undefined) {
  if (race.limit === 'max_fanout') return (b: BrokerProcess) => story.offer(b, parentId!);
  if (race.limit === 'max_actions')
    return (b: BrokerProcess) =>
      b.call('POST', `/v1/grants/${parentId}/usage`, {
        as: RESOURCE,
        body: { report_id: randomUUID(), calls: [{ cost: 1, at: now(), tool: 'faults' }] },
      });
  return (b: BrokerProcess) => story.grant(b, taskId, race.scopes);
}

/** A spent action pool revokes the grants drawing on it: later reports are 409 (action-metering.test.ts). */
function isDocumentedRefusal(race: Race, a: Answer): boolean {
  if (race.limit === 'max_actions')
    return (a.status === 200 && a.body.counted === 0) || (a.status === 409 && a.body.error === 'conflict');
  return a.status === 429 && a.body.error === 'quota_exceeded' && a.body.limit === race.limit;
}

function wonBy(race: Race, a: Answer): number {
  if (race.limit === 'max_actions') return a.status === 200 ? Number(a.body.counted) : 0;
  return a.status === 201 ? 1 : 0;
}

async function prepare(
  pair: BrokerPair,
  race: Race,
): Promise<{ taskId: string; parentId?: string; minted?: MintedLogin[] }> {
  const b = await pair.broker(1);
  const opened = await story.open(b, race.limits);
  if (opened.status !== 201) throw new Error(`race ${race.limit}: open ${opened.status}`);
  const taskId = opened.body.id as string;
  if (race.limit !== 'max_fanout' && race.limit !== 'max_actions') return { taskId };
  const grant = await story.grant(b, taskId, race.scopes);
  if (grant.status !== 201) throw new Error(`race ${race.limit}: grant ${grant.status}`);
  return { taskId, parentId: grant.body.grant_id, minted: loginsOf(grant.body) };
}

/**
 * Fires `n` requests at once, alternating between broker a and broker b, at a limit with `k` slots.
 * With `killAfterMs`, broker a is SIGKILLed mid-race and restarted, and what it never answered is sent
 * again to b (an agent retrying): every one of those must be refused too, since the slots are all taken.
 */
export async function runRace(pair: BrokerPair, race: Race): Promise<RaceOutcome> {
  const { taskId, parentId, minted = [] } = await prepare(pair, race);
  const send = requestFor(race, taskId, parentId);
  const brokers = [await pair.broker(0), await pair.broker(1)];
  const fired = Array.from({ length: race.n }, (_, i) =>
    send(brokers[i % 2]!).then(
      (a): Answer | 'crashed' => a,
      async (err: unknown): Promise<Answer | 'crashed'> => {
        // The socket may close a moment before the exit is reported.
        const b = brokers[i % 2]!;
        await Promise.race([b.child.exited, new Promise((r) => setTimeout(r, 2000))]);
        if (b.child.hasExited()) return 'crashed';
        throw err;
      },
    ),
  );
  const killed =
    race.killAfterMs === undefined
      ? undefined
      : new Promise((r) => setTimeout(r, race.killAfterMs)).then(() => pair.killSlot(0));
  const answers = await Promise.all(fired);
  const outcome: RaceOutcome = {
    limit: race.limit,
    k: race.k,
    n: race.n,
    taskId,
    statuses: {},
    won: 0,
    wrongRefusals: [],
    retried: {},
    minted,
  };
  const lost = answers.filter((a) => a === 'crashed').length;
  const survivor = await pair.broker(1);
  const retries = await Promise.all(Array.from({ length: lost }, () => send(survivor)));
  await killed;
  const tallied: Array<[Answer | 'crashed', Record<string, number>]> = [
    ...answers.map((a): [Answer | 'crashed', Record<string, number>] => [a, outcome.statuses]),
    ...retries.map((a): [Answer | 'crashed', Record<string, number>] => [a, outcome.retried]),
  ];
  for (const [a, tally] of tallied) {
    const key = a === 'crashed' ? 'crashed' : String(a.status);
    tally[key] = (tally[key] ?? 0) + 1;
    if (a === 'crashed') continue;
    outcome.won += wonBy(race, a);
    outcome.minted.push(...loginsOf(a.body ?? {}));
    if (!wonBy(race, a) && !isDocumentedRefusal(race, a)) outcome.wrongRefusals.push(a);
  }
  return outcome;
}

/** What the database says the race handed out: live grants, the counters of the task, children, actions. */
export async function raceLedger(world: FaultWorld, o: RaceOutcome) {
  const task = await world.db.db
    .selectFrom('tasks')
    .select(['grants_issued', 'active_grants', 'budget_spent', 'actions_spent'])
    .where('id', '=', o.taskId)
    .executeTakeFirstOrThrow();
  const live = await world.db.db
    .selectFrom('grants')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('task_id', '=', o.taskId)
    .where('status', 'in', ['pending', 'active'])
    .executeTakeFirstOrThrow();
  const offers = await world.db.db
    .selectFrom('delegation_offers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('task_id', '=', o.taskId)
    .executeTakeFirstOrThrow();
  return { ...task, liveGrants: Number(live.n), offers: Number(offers.n) };
}

/** The races: each limit, both brokers at once; the last with broker a killed in the middle. */
export function races(killAfterMs: number): Race[] {
  const roomy = { max_grants: 20, max_active: 10, budget: 20 };
  return [
    { limit: 'max_grants', k: 3, n: 8, limits: { ...roomy, max_grants: 3 }, scopes: [KV_SCOPE] },
    { limit: 'max_active', k: 3, n: 8, limits: { ...roomy, max_active: 3 }, scopes: [KV_SCOPE] },
    { limit: 'budget', k: 3, n: 8, limits: { ...roomy, budget: 3 }, scopes: [KV_SCOPE] },
    // story.offer hands on the database scope: the parent grant carries it.
    { limit: 'max_fanout', k: 3, n: 8, limits: { ...roomy, max_fanout: 3 }, scopes: [DB_SCOPE] },
    { limit: 'max_actions', k: 4, n: 10, limits: { ...roomy, max_actions: 4 }, scopes: [KV_SCOPE] },
    {
      limit: 'max_grants',
      k: 4,
      n: 12,
      limits: { ...roomy, max_grants: 4 },
      scopes: [DB_SCOPE],
      killAfterMs,
    },
  ];
}
