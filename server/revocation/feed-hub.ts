import type { FeedItem } from './feed';

export type { FeedItem };

export interface FeedSubscriber {
  /** Deliver items with a larger `seq` than this; advanced as items are delivered. */
  cursor: number;
  taskId?: string;
  send(items: FeedItem[]): void;
  fail(err: unknown): void;
}

export interface RevocationHub {
  subscribe(s: FeedSubscriber): () => void;
  /** Streams subscribed right now. */
  readonly size: number;
  /** Poll now: a revocation was just committed by this process. */
  wake(): void;
  stop(): void;
}

/**
 * One poller of the revocation feed for every SSE stream of this broker process, instead of one query a
 * second per stream. It polls every `intervalMs` while anyone listens (other replicas' revocations arrive
 * that way) and at once when `wake()` says this process just committed one, so a resource server hears
 * of a close within milliseconds rather than within a second.
 */
export function createRevocationHub(deps: {
  tail: (q: { after: number; limit: number }) => Promise<{ revocations: FeedItem[] }>;
  intervalMs: number;
  pageSize?: number;
}): RevocationHub {
  const subscribers = new Set<FeedSubscriber>();
  const pageSize = deps.pageSize ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let again = false;

  function deliver(items: FeedItem[]) {
    const last = items.at(-1)?.seq;
    for (const s of subscribers) {
      const mine = items.filter((i) => i.seq > s.cursor && (!s.taskId || i.task_id === s.taskId));
      if (mine.length) s.send(mine);
      if (last !== undefined && last > s.cursor) s.cursor = last;
    }
  }

  async function pollUntilDry(): Promise<void> {
    for (;;) {
      if (subscribers.size === 0) return;
      const after = Math.min(...[...subscribers].map((s) => s.cursor));
      const page = await deps.tail({ after, limit: pageSize });
      deliver(page.revocations);
      if (page.revocations.length < pageSize) return;
    }
  }

  function poll(): void {
    if (polling) {
      again = true;
      return;
    }
    again = false;
    polling = pollUntilDry()
      .catch((err) => {
        for (const s of subscribers) s.fail(err);
      })
      .finally(() => {
        polling = undefined;
        if (again) poll();
      });
  }

  return {
    subscribe(s) {
      subscribers.add(s);
      timer ??= setInterval(poll, deps.intervalMs);
      poll();
      return () => {
        subscribers.delete(s);
        if (subscribers.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    get size() {
      return subscribers.size;
    },
    wake: () => {
      if (subscribers.size) poll();
    },
    stop() {
      subscribers.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
