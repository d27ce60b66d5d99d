import { createSession } from 'better-sse';
import type { Request } from 'express';
import { z } from 'zod';
import type { IntrospectionService } from '../../grants/introspection.service';
import type { FeedItem, RevocationHub } from '../../revocation/feed-hub';
import { Unavailable } from '../../shared/errors';
import { parseInput } from '../validate';
import { type Handler, principalOf } from './route-helpers';

const feedQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  task: z.string().uuid().optional(),
});

const SSE_KEEPALIVE_MS = 5000;
const SSE_MAX_MS = 15 * 60_000;
/** Beyond this many streams per broker, clients are asked to poll. */
export const SSE_MAX_STREAMS = 100;

const wantsStream = (req: Request) =>
  req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream';

/** `Last-Event-ID` (a feed `seq`) wins over `after` when a client resumes a stream. */
function resumeFrom(req: Request, after: number): number {
  const last = req.get('last-event-id') ?? '';
  return /^\d{1,15}$/.test(last) ? Number(last) : after;
}

/** `GET /v1/revocations`: the feed of revoked `jti`s, as JSON pages or server-sent events. */
export function revocationHandlers(deps: { introspection: IntrospectionService; hub: RevocationHub }) {
  return {
    async feed(req, res) {
      const q = parseInput(feedQuery, req.query, 'query');
      const principal = principalOf(req);
      const query = { after: q.after, limit: q.limit, ...(q.task ? { taskId: q.task } : {}) };
      if (!wantsStream(req)) {
        res.json(await deps.introspection.revocations(principal, query));
        return;
      }
      if (deps.hub.size >= SSE_MAX_STREAMS)
        throw new Unavailable('too many revocation streams are open; poll instead');
      // The first page also authorises the reader; the hub pushes what follows.
      const first = await deps.introspection.revocations(principal, {
        ...query,
        after: resumeFrom(req, q.after),
      });
      // A client that hung up while we read holds nothing: no session, no subscription, no slot.
      if (req.destroyed || res.destroyed) return;
      const session = await createSession(req, res, {
        keepAlive: SSE_KEEPALIVE_MS,
        trustClientEventId: false,
        headers: { 'Cache-Control': 'no-store' },
      });
      const send = (items: FeedItem[]) => {
        for (const item of items) if (session.isConnected) session.push(item, 'revoked', String(item.seq));
      };
      send(first.revocations);
      const unsubscribe = deps.hub.subscribe({
        cursor: first.next,
        ...(q.task ? { taskId: q.task } : {}),
        send,
        fail: () => res.end(),
      });
      const maxAge = setTimeout(() => res.end(), SSE_MAX_MS);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        unsubscribe();
        clearTimeout(maxAge);
      };
      session.once('disconnected', release);
      if (!session.isConnected) release();
    },
  } satisfies Record<string, Handler>;
}
