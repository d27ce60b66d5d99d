import type { BrokerProcess } from './broker-process';
import type { FaultWorld } from './fault-world';

/** Where the broker was when it was killed: a request of that kind in flight, or revocation after a close. */
export type KillPoint = 'open' | 'grant' | 'offer' | 'redeem' | 'revoke' | 'close' | 'revocation';
export type Op = Exclude<KillPoint, 'revocation'>;

/** A broker request that never got an answer: its broker died under it. */
export class Crashed extends Error {}

/**
 * One broker process at a time on a world, killed and restarted by the test. Requests go to whichever
 * broker is up (waiting while one restarts); those in flight when it dies come back as `Crashed`.
 */
export class CrashCluster {
  private broker: BrokerProcess | undefined;
  private starting: Promise<BrokerProcess> | undefined;
  private generation = 0;
  private readonly listeners = new Set<(event: { op: KillPoint; pending: () => boolean }) => void>();
  readonly restartsMs: number[] = [];

  constructor(private readonly world: FaultWorld) {}

  async start(): Promise<BrokerProcess> {
    this.generation++;
    const started = Date.now();
    this.starting = this.world.startBroker(`broker-${this.generation}`);
    this.broker = await this.starting;
    this.restartsMs.push(Date.now() - started);
    this.starting = undefined;
    return this.broker;
  }

  async current(): Promise<BrokerProcess> {
    if (this.starting) return this.starting;
    if (!this.broker) throw new Error('no broker is running');
    return this.broker;
  }

  /** SIGKILL the running broker and start another on the same world. Returns how long it was down. */
  async killAndRestart(): Promise<number> {
    const victim = this.broker!;
    const killed = Date.now();
    this.broker = undefined;
    this.starting = victim.kill().then(() => this.start());
    await this.starting;
    return Date.now() - killed;
  }

  /** Resolves at the next moment a request of kind `op` starts (or, for `revocation`, a close returned). */
  next(point: KillPoint): Promise<{ pending: () => boolean }> {
    return new Promise((resolve) => {
      const listener = (event: { op: KillPoint; pending: () => boolean }) => {
        if (event.op !== point) return;
        this.listeners.delete(listener);
        resolve(event);
      };
      this.listeners.add(listener);
    });
  }

  /** Sends one request of kind `op` to the current broker; `Crashed` when that broker died before answering. */
  async send<T>(op: Op, request: (b: BrokerProcess) => Promise<T>): Promise<T> {
    const b = await this.current();
    let done = false;
    for (const l of [...this.listeners]) l({ op, pending: () => !done });
    try {
      return await request(b);
    } catch (err) {
      if (b.child.hasExited() || this.broker !== b) throw new Crashed(`${op}: broker ${b.name} died`);
      throw err;
    } finally {
      done = true;
    }
  }

  /** A close answered: a `revocation` kill point fires now (the worker is revoking what it closed). */
  closed(): void {
    for (const l of [...this.listeners]) l({ op: 'revocation', pending: () => true });
  }
}
