import { EventEmitter } from 'node:events';
import { createParser } from 'eventsource-parser';
import type { RevocationPage, RevokedGrant } from '../client/types';
import type { Transport } from '../http/transport';

export interface RevocationFeedOptions {
  /** Drop remembered `jti`s this long after their revocation: no token outlives it (default 1 h 5 min). */
  maxTokenLifetimeSeconds?: number;
  /** No byte (event or keep-alive) for this long means the feed is dead (default 15 s). */
  staleAfterMs?: number;
  /** Reconnect backoff: random in [0, min(max, base·2ⁿ)] (default 250 ms, 10 s). */
  backoff?: { baseMs: number; maxMs: number };
  /** Catch-up page size over JSON before streaming (default 1000, the broker's maximum). */
  pageSize?: number;
  now?: () => number;
}

export interface RevocationFeed extends EventEmitter {
  /** True while a stream is open and caught up: revocations reach `isRevoked` as the broker commits them. */
  isLive(): boolean;
  isRevoked(jti: string): boolean;
  /** Resolves once the feed is live, or rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** The last sequence number applied (the `Last-Event-ID` a reconnect resumes from). */
  cursor(): number;
  close(): Promise<void>;
}

/** Waits `ms`, or less if `signal` aborts first; leaves no listener behind. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Follows `GET /v1/revocations`: first the JSON pages since the last cursor, then the `text/event-stream`
 * with `Last-Event-ID`, so no revocation is skipped across reconnects. On error, end or silence it drops to
 * "not live" (the kit then introspects each token) and reconnects with backoff.
 */
export function createRevocationFeed(transport: Transport, o: RevocationFeedOptions = {}): RevocationFeed {
  const now = o.now ?? Date.now;
  const keepMs = (o.maxTokenLifetimeSeconds ?? 3900) * 1000;
  const staleAfter = o.staleAfterMs ?? 15_000;
  const backoff = o.backoff ?? { baseMs: 250, maxMs: 10_000 };
  const pageSize = o.pageSize ?? 1000;
  const revoked = new Map<string, number>();
  const emitter = new EventEmitter() as RevocationFeed;
  const stop = new AbortController();
  let cursor = 0;
  let live = false;
  let lastPrune = now();

  function apply(item: RevokedGrant) {
    cursor = Math.max(cursor, item.seq);
    const at = Date.parse(item.revoked_at);
    if (Number.isFinite(at) && now() - at > keepMs) return;
    if (!revoked.has(item.jti)) {
      revoked.set(item.jti, Number.isFinite(at) ? at : now());
      emitter.emit('revoked', item);
    }
    if (now() - lastPrune > 60_000) {
      lastPrune = now();
      for (const [jti, t] of revoked) if (now() - t > keepMs) revoked.delete(jti);
    }
  }

  function setLive(value: boolean, err?: unknown) {
    if (live === value) return;
    live = value;
    emitter.emit(value ? 'live' : 'down', err);
  }

  async function catchUp() {
    while (!stop.signal.aborted) {
      const page = await transport.call<RevocationPage>(
        'GET',
        `/v1/revocations?after=${cursor}&limit=${pageSize}`,
        { retry: 'never' },
      );
      for (const item of page.revocations) apply(item);
      if (page.revocations.length < pageSize) return;
    }
  }

  async function stream() {
    // A listener added to an already aborted signal never fires: a close during catch-up stops here.
    if (stop.signal.aborted) throw new Error('the revocation feed was closed');
    const conn = new AbortController();
    const abort = () => conn.abort();
    stop.signal.addEventListener('abort', abort, { once: true });
    let stale: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(stale);
      stale = setTimeout(() => conn.abort(new Error('the revocation feed went silent')), staleAfter);
    };
    try {
      touch();
      const res = await transport.stream(
        `/v1/revocations?after=${cursor}`,
        { accept: 'text/event-stream', 'last-event-id': String(cursor) },
        conn.signal,
      );
      const parser = createParser({
        onEvent: (ev) => {
          if (ev.event === 'revoked') apply(JSON.parse(ev.data) as RevokedGrant);
        },
      });
      setLive(true);
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        touch();
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
      throw new Error('the revocation feed ended');
    } finally {
      clearTimeout(stale);
      stop.signal.removeEventListener('abort', abort);
    }
  }

  async function run() {
    let failures = 0;
    while (!stop.signal.aborted) {
      const started = now();
      try {
        await catchUp();
        await stream();
      } catch (err) {
        setLive(false, err);
        if (stop.signal.aborted) return;
        // A stream that ran for a while (the broker ends them every 15 min) reconnects at once.
        failures = now() - started > 30_000 ? 0 : failures + 1;
        const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** failures);
        await sleep(failures === 0 ? 0 : Math.floor(Math.random() * cap), stop.signal);
      }
    }
  }

  const running = run();
  emitter.on('error', () => undefined);
  emitter.isLive = () => live;
  emitter.isRevoked = (jti) => revoked.has(jti);
  emitter.cursor = () => cursor;
  emitter.ready = (timeoutMs) =>
    live
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => {
            emitter.off('live', onLive);
            reject(new Error(`the revocation feed was not live within ${timeoutMs} ms`));
          }, timeoutMs);
          const onLive = () => {
            clearTimeout(t);
            resolve();
          };
          emitter.once('live', onLive);
        });
  emitter.close = async () => {
    stop.abort();
    await running;
    setLive(false);
  };
  return emitter;
}
