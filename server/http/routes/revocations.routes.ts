import { Router } from 'express';
import { z } from 'zod';
import type { IntrospectionService } from '../../grants/introspection.service';
import { Unavailable } from '../../shared/errors';
import { parseInput } from '../validate';
import type { FeedItem, RevocationHub } from './revocation-hub';
import { handle, principalOf } from './route-helpers';

const feedQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  task: z.string().uuid().optional(),
});

const SSE_KEEPALIVE_MS = 5000;
const SSE_MAX_MS = 15 * 60_000;
/** Beyond this many streams per broker, clients are asked to poll. */
const SSE_MAX_STREAMS = 100;
let openStreams = 0;

export function revocationRoutes(deps: { introspection: IntrospectionService; hub: RevocationHub }): Router {
  const r = Router();
  r.get(
    '/v1/revocations',
    handle(async (req, res) => {
      const q = parseInput(feedQuery, req.query, 'query');
      const principal = principalOf(req);
      const query = { after: q.after, limit: q.limit, ...(q.task ? { taskId: q.task } : {}) };
      if (
        !req.accepts(['application/json', 'text/event-stream']) ||
        req.accepts(['application/json', 'text/event-stream']) === 'application/json'
      ) {
        res.json(await deps.introspection.revocations(principal, query));
        return;
      }
      // Server-sent events: the same feed, pushed as it grows; `id` lets a client resume with Last-Event-ID.
      if (openStreams >= SSE_MAX_STREAMS)
        throw new Unavailable('too many revocation streams are open; poll instead');
      const resumeFrom = /^\d{1,15}$/.test(req.get('last-event-id') ?? '')
        ? Number(req.get('last-event-id'))
        : q.after;
      // The first page also authorises the principal; the hub then pushes what follows.
      const first = await deps.introspection.revocations(principal, { ...query, after: resumeFrom });
      openStreams++;
      res
        .status(200)
        .set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
        .flushHeaders();
      const send = (items: FeedItem[]) => {
        for (const item of items)
          res.write(`id: ${item.seq}\nevent: revoked\ndata: ${JSON.stringify(item)}\n\n`);
      };
      send(first.revocations);
      const unsubscribe = deps.hub.subscribe({
        cursor: first.next,
        ...(q.task ? { taskId: q.task } : {}),
        send,
        fail: () => res.end(),
      });
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
      const maxAge = setTimeout(() => res.end(), SSE_MAX_MS);
      res.on('close', () => {
        openStreams--;
        unsubscribe();
        clearInterval(keepAlive);
        clearTimeout(maxAge);
      });
    }),
  );
  return r;
}
