import { Router } from 'express';
import { z } from 'zod';
import {
  type AuditKeys,
  type AuditSequencer,
  auditKeyring,
  awaitSequenced,
  listAuditEvents,
  type VerifyReport,
  verifyAuditLog,
} from '../../audit';
import type { Db } from '../../db/database';
import type { AccessControl } from '../../tasks/access';
import { safeText } from '../../tasks/task.schema';
import { parseInput } from '../validate';
import { auditReader } from './audit-proof.routes';
import { handle } from './route-helpers';

/** A reader waits at most this long for events committed before its request to become leaves. */
const READ_YOUR_WRITES_MS = 3000;

const eventsQuery = z.strictObject({
  task: z.string().uuid().optional(),
  grant: z.string().uuid().optional(),
  principal: safeText(1, 2048).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** The verification report as the API and `grantline audit verify --json` show it. */
export function verifyReportBody(r: VerifyReport) {
  return {
    ok: r.ok,
    checked: r.checked,
    tree_size: r.treeSize,
    root_hash: r.rootHash,
    checkpoints_checked: r.checkpointsChecked,
    latest_checkpoint: r.latestCheckpoint,
    legacy_events: r.legacyEvents,
    ...(r.brokenAt
      ? {
          broken_at: {
            leaf_index: r.brokenAt.leafIndex,
            reason: r.brokenAt.reason,
            detail: r.brokenAt.detail,
            ...(r.brokenAt.treeSize !== undefined ? { tree_size: r.brokenAt.treeSize } : {}),
            ...(r.brokenAt.seq !== undefined ? { seq: r.brokenAt.seq } : {}),
          },
        }
      : {}),
  };
}

export function auditRoutes(deps: {
  db: Db;
  access: AccessControl;
  sequencer: AuditSequencer;
  auditKeys: AuditKeys;
}): Router {
  const r = Router();
  const authorize = auditReader(deps.access);
  const ring = auditKeyring(deps.auditKeys.jwks());
  r.get(
    '/v1/audit/events',
    handle(async (req, res) => {
      const q = parseInput(eventsQuery, req.query, 'query');
      await authorize(req);
      // Every event committed before this request (this read's own decision included) is listed.
      await awaitSequenced(deps.db, { timeoutMs: READ_YOUR_WRITES_MS, kick: deps.sequencer.kick });
      const events = await listAuditEvents(deps.db, {
        ...(q.task ? { taskId: q.task } : {}),
        ...(q.grant ? { grantId: q.grant } : {}),
        ...(q.principal ? { principal: q.principal } : {}),
        ...(q.after !== undefined ? { afterLeaf: q.after } : {}),
        limit: q.limit,
      });
      res.json({ events, next: events.at(-1)?.leaf_index ?? q.after ?? null });
    }),
  );
  r.get(
    '/v1/audit/verify',
    handle(async (req, res) => {
      await authorize(req);
      res.status(200).json(verifyReportBody(await verifyAuditLog(deps.db, await ring)));
    }),
  );
  return r;
}
