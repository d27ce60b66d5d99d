import { Router } from 'express';
import { z } from 'zod';
import { listAuditEvents, verifyAuditChain } from '../../audit/audit.service';
import type { Db } from '../../db/database';
import type { AccessControl } from '../../tasks/access';
import { safeText } from '../../tasks/task.schema';
import { parseInput } from '../validate';
import { handle, principalOf } from './route-helpers';

const eventsQuery = z.strictObject({
  task: z.string().uuid().optional(),
  grant: z.string().uuid().optional(),
  principal: safeText(1, 2048).optional(),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function auditRoutes(deps: { db: Db; access: AccessControl }): Router {
  const r = Router();
  const authorize = async (req: Parameters<typeof principalOf>[0]) => {
    const principal = principalOf(req);
    const decision = deps.access.evaluate(principal, { action: 'ReadAudit' });
    if (!decision.allowed) await deps.access.refuse(principal, { action: 'ReadAudit' }, decision);
    await deps.access.record(principal, { action: 'ReadAudit' }, decision);
  };
  r.get(
    '/v1/audit/events',
    handle(async (req, res) => {
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
    }),
  );
  r.get(
    '/v1/audit/verify',
    handle(async (req, res) => {
      await authorize(req);
      const result = await verifyAuditChain(deps.db);
      res.status(200).json({
        ok: result.ok,
        checked: result.checked,
        head_seq: result.headSeq,
        head_hash: result.headHash,
        ...(result.brokenAt ? { broken_at: result.brokenAt } : {}),
      });
    }),
  );
  return r;
}
