import { z } from 'zod';
import type { IntrospectionService } from '../../grants/introspection.service';
import { Unavailable } from '../../shared/errors';
import { parseInput } from '../validate';
import { type Handler, principalOf } from './route-helpers';

const feedQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  task: z.string().uuid().optional(),
});

const SSE_POLL_MS = 1000;
const SSE_MAX_MS = 15 * 60_000;
/** Each stream polls PostgreSQL once a second; beyond this many per broker, clients are asked to poll. */
const SSE_MAX_STREAMS = 100;
let openStreams = 0;

/** `GET /v1/revocations`: the feed of revoked `jti`s, as JSON pages or server-sent events. */
export function revocationHandlers(deps: { introspection: IntrospectionService }) {
  return {
    async feed(req, res) {
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
      const first = await deps.introspection.revocations(principal, { ...query, after: resumeFrom });
      openStreams++;
      res
        .status(200)
        .set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
        .flushHeaders();
      let cursor = first.next;
      const send = (items: typeof first.revocations) => {
        for (const item of items)
          res.write(`id: ${item.seq}\nevent: revoked\ndata: ${JSON.stringify(item)}\n\n`);
      };
      send(first.revocations);
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started > SSE_MAX_MS) return res.end();
        deps.introspection.revocations(principal, { ...query, after: cursor }).then(
          (page) => {
            send(page.revocations);
            cursor = page.next;
            res.write(': keep-alive\n\n');
          },
          () => res.end(),
        );
      }, SSE_POLL_MS);
      res.on('close', () => {
        openStreams--;
        clearInterval(timer);
      });
    },
  } satisfies Record<string, Handler>;
}
