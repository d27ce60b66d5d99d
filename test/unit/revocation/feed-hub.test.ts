import { createRevocationHub, type FeedItem } from '../../../server/revocation/feed-hub';

const item = (seq: number, task = 't1'): FeedItem => ({
  seq,
  jti: `g${seq}`,
  task_id: task,
  reason: 'closed',
  revoked_at: new Date(0).toISOString(),
});

function fakeFeed() {
  const rows: FeedItem[] = [];
  const queries: Array<{ after: number; limit: number }> = [];
  return {
    rows,
    queries,
    tail: async (q: { after: number; limit: number }) => {
      queries.push(q);
      return { revocations: rows.filter((r) => r.seq > q.after).slice(0, q.limit) };
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 5));

describe('revocation hub (one poller for every SSE stream)', () => {
  test('when a revocation is committed and the hub is woken, then every subscriber gets it at once, filtered by task', async () => {
    const feed = fakeFeed();
    const hub = createRevocationHub({ tail: feed.tail, intervalMs: 60_000 });
    const all: number[] = [];
    const onlyT2: number[] = [];
    hub.subscribe({ cursor: 0, send: (xs) => all.push(...xs.map((x) => x.seq)), fail: () => undefined });
    hub.subscribe({
      cursor: 0,
      taskId: 't2',
      send: (xs) => onlyT2.push(...xs.map((x) => x.seq)),
      fail: () => undefined,
    });
    await flush();
    feed.rows.push(item(1, 't1'), item(2, 't2'));
    hub.wake();
    await flush();
    expect(all).toEqual([1, 2]);
    expect(onlyT2).toEqual([2]);
    // Nothing is delivered twice, and the next poll starts after what everyone has seen.
    hub.wake();
    await flush();
    expect(all).toEqual([1, 2]);
    expect(feed.queries.at(-1)!.after).toBe(2);
    hub.stop();
  });

  test('when a backlog is larger than a page, then one wake drains it page by page', async () => {
    const feed = fakeFeed();
    for (let i = 1; i <= 12; i++) feed.rows.push(item(i));
    const hub = createRevocationHub({ tail: feed.tail, intervalMs: 60_000, pageSize: 5 });
    const got: number[] = [];
    hub.subscribe({ cursor: 3, send: (xs) => got.push(...xs.map((x) => x.seq)), fail: () => undefined });
    await flush();
    expect(got).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    hub.stop();
  });

  test('when nobody listens, then the hub does not poll; when the database fails, then the streams are ended', async () => {
    const feed = fakeFeed();
    const hub = createRevocationHub({ tail: feed.tail, intervalMs: 10 });
    hub.wake();
    await flush();
    expect(feed.queries).toHaveLength(0);
    const failed: unknown[] = [];
    const off = hub.subscribe({
      cursor: 0,
      send: () => undefined,
      fail: (e) => failed.push(e),
    });
    await flush();
    const polls = feed.queries.length;
    expect(polls).toBeGreaterThan(0);
    off();
    await new Promise((r) => setTimeout(r, 40));
    expect(feed.queries.length).toBe(polls);
    const broken = createRevocationHub({
      tail: async () => {
        throw new Error('database down');
      },
      intervalMs: 60_000,
    });
    broken.subscribe({ cursor: 0, send: () => undefined, fail: (e) => failed.push(e) });
    await flush();
    expect((failed[0] as Error).message).toBe('database down');
    broken.stop();
    hub.stop();
  });
});
