import { z } from 'zod';
import type { Access } from '../../access/access';
import { listAuditEvents, verifyAuditChain } from '../../audit/audit.service';
import type { Db } from '../../db/database';
import { safeText } from '../../tasks/task.schema';
import { parseInput } from '../validate';
import { actorOf, type Handler } from './route-helpers';

const eventsQuery = z.strictObject({
  task: z.string().uuid().optional(),
  grant: z.string().uuid().optional(),
  principal: safeText(1, 2048).optional(),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** The audit log, for auditors: every read is itself a decision on the record. */
export function auditHandlers(deps: { db: Db; access: Access }) {
  const authorize = (req: Parameters<Handler>[0]) =>
    deps.access.authorizeRead(actorOf(req), { action: 'ReadAudit' });
  return {
    async events(req, res) {
      const q = parseInput(eventsQuery, req.query, 'query');
      await authorize(req);
      const events = await listAuditEvents(deps.db, {
        ...(q.task ? { taskId: q.task } : {}),
        ...(q.grant ? { grantId: q.grant } : {}),
        ...(q.principal ? { principal: q.principal } : {}),
        afterSeq: q.after,
        limit: q.limit,
      });
      res.json({
        events: events.map((e) => ({
          seq: e.seq,
          at: e.at.toISOString(),
          type: e.type,
          task_id: e.taskId,
          grant_id: e.grantId,
          principal: e.principal,
          payload: e.payload,
          prev_hash: e.prevHash,
          hash: e.hash,
        })),
        next: events.length ? events[events.length - 1]!.seq : q.after,
      });
    },
    async verify(req, res) {
      await authorize(req);
      const result = await verifyAuditChain(deps.db);
      res.status(200).json({
        ok: result.ok,
        checked: result.checked,
        head_seq: result.headSeq,
        head_hash: result.headHash,
        ...(result.brokenAt ? { broken_at: result.brokenAt } : {}),
      });
    },
  } satisfies Record<string, Handler>;
}
