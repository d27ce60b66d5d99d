import type { BrokerProcess } from './broker-process';
import { Crashed, type KillPoint, type Op } from './crash-cluster';
import type { KillableCluster } from './crash-run';
import type { FaultWorld } from './fault-world';
import {
  jobClaims,
  locksHeldBy,
  type Takeover,
  watchJobTakeover,
  watchSequencerTakeover,
} from './lock-holders';

/** How long a takeover is watched for before it counts as never happening. */
const TAKEOVER_WATCH_MS = 10_000;

interface Slot {
  letter: 'a' | 'b';
  generation: number;
  broker: BrokerProcess | undefined;
  starting: Promise<BrokerProcess> | undefined;
}

export interface PairKill {
  slot: 'a' | 'b';
  point: KillPoint | 'chosen';
  /** What the victim held when it was killed: revocation jobs it was running, the sequencer's lead. */
  heldJobs: number;
  ledSequencer: boolean;
  downMs: number;
}

type KillEvent = { op: KillPoint; slot: number; pending: () => boolean };

/**
 * Two broker processes on one world (one database, one Vault), each its own `application_name` in
 * PostgreSQL (so the test sees whose session holds which advisory lock). Requests are spread over both
 * at random; one of them is SIGKILLed at a time and restarted while the other keeps serving. Every kill
 * watches what the victim held — the revocation jobs it was running and the audit sequencer's lead —
 * until the survivor has taken it over, and records how long that took.
 */
export class BrokerPair implements KillableCluster {
  private readonly slots: Slot[] = [
    { letter: 'a', generation: 0, broker: undefined, starting: undefined },
    { letter: 'b', generation: 0, broker: undefined, starting: undefined },
  ];
  private readonly listeners = new Set<(event: KillEvent) => void>();
  private target: { slot: number; point: KillPoint } | undefined;
  private lastCloser = 0;
  readonly kills: PairKill[] = [];
  readonly restartsMs: number[] = [];
  private readonly watches: Array<Promise<Takeover | undefined>> = [];

  constructor(
    private readonly world: FaultWorld,
    private readonly random: () => number,
  ) {}

  /** The application_name of a slot's current broker (each restart is a new one). */
  nameOf(slot: number): string {
    const s = this.slots[slot]!;
    return `grantline-pair-${s.letter}${s.generation}`;
  }

  async start(): Promise<void> {
    await Promise.all([this.startSlot(0), this.startSlot(1)]);
  }

  private async startSlot(i: number): Promise<BrokerProcess> {
    const slot = this.slots[i]!;
    slot.generation++;
    const url = new URL(this.world.db.url);
    url.searchParams.set('application_name', this.nameOf(i));
    const started = Date.now();
    slot.starting = this.world.startBroker(this.nameOf(i), { DATABASE_URL: url.toString() });
    try {
      slot.broker = await slot.starting;
    } finally {
      slot.starting = undefined;
    }
    this.restartsMs.push(Date.now() - started);
    return slot.broker;
  }

  /** The broker of a slot, waiting while it restarts. */
  async broker(i: number): Promise<BrokerProcess> {
    const slot = this.slots[i]!;
    if (slot.broker) return slot.broker;
    if (slot.starting) return slot.starting;
    throw new Error(`broker ${slot.letter} is neither running nor starting`);
  }

  /** A running broker (either, when both are). */
  async running(): Promise<BrokerProcess> {
    return this.broker(this.pick());
  }

  /** A running broker, chosen at random (the other may be down or restarting). */
  private pick(): number {
    const up = [0, 1].filter((i) => this.slots[i]!.broker);
    if (up.length === 0) return this.random() < 0.5 ? 0 : 1;
    return up[Math.floor(this.random() * up.length)]!;
  }

  async send<T>(op: Op, request: (b: BrokerProcess) => Promise<T>): Promise<T> {
    const i = this.pick();
    const b = await this.broker(i);
    let done = false;
    for (const l of [...this.listeners]) l({ op, slot: i, pending: () => !done });
    try {
      const answer = await request(b);
      if (op === 'close') this.lastCloser = i;
      return answer;
    } catch (err) {
      if (b.child.hasExited() || this.slots[i]!.broker !== b)
        throw new Crashed(`${op}: broker ${b.name} died`);
      throw err;
    } finally {
      done = true;
    }
  }

  next(point: KillPoint): Promise<{ pending: () => boolean }> {
    return new Promise((resolve) => {
      const listener = (event: KillEvent) => {
        if (event.op !== point) return;
        this.listeners.delete(listener);
        this.target = { slot: event.slot, point };
        resolve(event);
      };
      this.listeners.add(listener);
    });
  }

  closed(): void {
    for (const l of [...this.listeners]) l({ op: 'revocation', slot: this.lastCloser, pending: () => true });
  }

  /**
   * SIGKILLs the broker the last kill point fired on (for `revocation`: whichever broker holds a job
   * now, else the one that answered the close) and restarts it. Returns how long it was down.
   */
  async killAndRestart(): Promise<number> {
    const t = this.target ?? { slot: this.pick(), point: 'revocation' as const };
    this.target = undefined;
    let slot = t.slot;
    if (t.point === 'revocation') {
      const holding = await Promise.all([0, 1].map((i) => locksHeldBy(this.world, this.nameOf(i))));
      const busy = [0, 1].find((i) => holding[i]!.jobs.length > 0);
      if (busy !== undefined) slot = busy;
    }
    return this.killSlot(slot, { point: t.point });
  }

  /**
   * SIGKILLs one broker (watching what it held be taken over), runs `afterKill`, and restarts it
   * (unless `restart: false`); returns the downtime.
   */
  async killSlot(
    i: number,
    o: { point?: PairKill['point']; afterKill?: () => Promise<void>; restart?: boolean } = {},
  ): Promise<number> {
    const victim = await this.broker(i);
    const name = this.nameOf(i);
    const held = await locksHeldBy(this.world, name);
    const jobs = await jobClaims(this.world, held.jobs);
    const killedAt = Date.now();
    this.slots[i]!.broker = undefined;
    await victim.kill();
    for (const job of jobs)
      this.watches.push(watchJobTakeover(this.world, job, name, killedAt, TAKEOVER_WATCH_MS));
    if (held.sequencer)
      this.watches.push(watchSequencerTakeover(this.world, name, killedAt, TAKEOVER_WATCH_MS));
    await o.afterKill?.();
    if (o.restart !== false) await this.startSlot(i);
    const downMs = Date.now() - killedAt;
    this.kills.push({
      slot: this.slots[i]!.letter,
      point: o.point ?? 'chosen',
      heldJobs: held.jobs.length,
      ledSequencer: held.sequencer,
      downMs,
    });
    return downMs;
  }

  /** Every takeover watched so far (those where the victim really held something), once each is decided. */
  async takeovers(): Promise<Takeover[]> {
    const all = await Promise.all(this.watches);
    return all.filter((t): t is Takeover => t !== undefined);
  }

  /** The slot whose broker leads the audit sequencer now (undefined while none does). */
  async sequencerSlot(): Promise<number | undefined> {
    for (const i of [0, 1]) if ((await locksHeldBy(this.world, this.nameOf(i))).sequencer) return i;
    return undefined;
  }
}
