import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerProcess } from './broker-process';
import { DB_SCOPE, KV_SCOPE } from './fault-world';
import type { MintedLogin } from './invariants';
import { loginsOf, story } from './story';

type Op = 'open' | 'grant' | 'close' | 'list';
/** A request still unanswered after this long counts as a hang (the broker's own DB timeout is 5 s). */
export const HANG_MS = 10_000;

export interface Answer {
  op: Op;
  /** The HTTP status, or 0 when the request hung past HANG_MS or the connection failed. */
  status: number;
  at: number;
  ms: number;
  /** The error code of a refusal (`database_unavailable`), or the failure of a request that got no answer. */
  code?: string;
}

export interface OutageLoad {
  answers: Answer[];
  taskIds: string[];
  /** Grants that answered 201: each must be in the database, and revoked once its task is closed. */
  grantIds: string[];
  minted: MintedLogin[];
  /** Tasks whose close is asked until it answers 200 (retried after a 503, as an orchestrator would). */
  closesRequested: string[];
  closesAnswered: string[];
  /** Holds every lane before its next request and resolves once none is in flight; call the result to go on. */
  quiesce(): Promise<() => void>;
  stop(): Promise<void>;
}

/** Lanes wait here before each request while the load is held, and count themselves while in flight. */
const gate = { held: false, inFlight: 0 };

async function send(
  load: OutageLoad,
  op: Op,
  request: () => ReturnType<BrokerProcess['call']>,
): Promise<{ status: number; body: any } | undefined> {
  while (gate.held) await sleep(20);
  gate.inFlight++;
  const started = Date.now();
  const hang = sleep(HANG_MS).then(() => ({ status: 0, body: { code: 'hang' } }));
  let r: { status: number; body: any };
  try {
    r = await Promise.race([request(), hang]);
  } catch (err) {
    r = { status: 0, body: { code: `no answer: ${(err as Error).message}` } };
  } finally {
    gate.inFlight--;
  }
  const code = typeof r.body?.error === 'string' ? r.body.error : r.body?.code;
  load.answers.push({
    op,
    status: r.status,
    at: started,
    ms: Date.now() - started,
    ...(code ? { code } : {}),
  });
  return r;
}

/** The orchestrator's close, asked again after a refusal until it answers 200 (close is idempotent). */
async function closeUntilDone(load: OutageLoad, b: BrokerProcess, taskId: string, until: () => boolean) {
  load.closesRequested.push(taskId);
  for (;;) {
    const r = await send(load, 'close', () => story.close(b, taskId));
    if (r?.status === 200) {
      load.closesAnswered.push(taskId);
      return;
    }
    if (until()) return;
    await sleep(200);
  }
}

/** open → grant (database login and KV secret) → close, over and over, until stopped. */
async function lane(load: OutageLoad, b: BrokerProcess, stopped: () => boolean, giveUp: () => boolean) {
  while (!stopped()) {
    const opened = await send(load, 'open', () => story.open(b));
    if (opened?.status !== 201) {
      await sleep(100);
      continue;
    }
    const taskId = opened.body.id as string;
    load.taskIds.push(taskId);
    for (let i = 0; i < 2 && !stopped(); i++) {
      const grant = await send(load, 'grant', () => story.grant(b, taskId, [DB_SCOPE, KV_SCOPE]));
      if (grant?.status !== 201) continue;
      load.grantIds.push(grant.body.grant_id);
      load.minted.push(...loginsOf(grant.body));
    }
    await closeUntilDone(load, b, taskId, giveUp);
  }
}

/**
 * `lanes` orchestrator/agent stories against `broker`, recording every answer with its time, until
 * `stop()`: then each lane finishes its story, its close retried until the broker answers it.
 */
export function startOutageLoad(broker: BrokerProcess, lanes: number): OutageLoad {
  let stopped = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  const load: OutageLoad = {
    answers: [],
    taskIds: [],
    grantIds: [],
    minted: [],
    closesRequested: [],
    closesAnswered: [],
    async quiesce() {
      gate.held = true;
      while (gate.inFlight > 0) await sleep(20);
      return () => {
        gate.held = false;
      };
    },
    async stop() {
      stopped = true;
      giveUpAt = Date.now() + 60_000;
      await running;
    },
  };
  const running = Promise.all(
    Array.from({ length: lanes }, () =>
      lane(
        load,
        broker,
        () => stopped,
        () => Date.now() > giveUpAt,
      ),
    ),
  );
  return load;
}
