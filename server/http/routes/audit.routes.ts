import { z } from 'zod';
import type { Access } from '../../access/access';
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
import { safeText } from '../../tasks/task.schema';
import { parseInput } from '../validate';
import { actorOf, type Handler } from './route-helpers';

/** A reader waits at most this long for events committed before its request to become leaves. */
const READ_YOUR_WRITES_MS = 3000;

const eventsQuery = z.strictObject({
  task: z.string().uuid().optional(),
  grant: z.string().uuid().optional(),
  principal: safeText(1, 2048).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export interface AuditRouteDeps {
  db: Db;
  access: Access;
  auditSequencer: AuditSequencer;
  auditKeys: AuditKeys;
}

/** Only auditors read the log (policy action ReadAudit); every read is itself a decision on the record. */
export const authorizeAuditRead = (access: Access, req: Parameters<Handler>[0]) =>
  access.authorizeRead(actorOf(req), { action: 'ReadAudit' });

/** The verification report as the API shows it. */
export function verifyReportBody(r: VerifyReport) {
  const b = r.brokenAt;
  return {
    ok: r.ok,
    checked: r.checked,
    tree_size: r.treeSize,
    root_hash: r.rootHash,
    checkpoints_checked: r.checkpointsChecked,
    latest_checkpoint: r.latestCheckpoint,
    legacy_events: r.legacyEvents,
    ...(b
      ? {
          broken_at: {
            leaf_index: b.leafIndex,
            reason: b.reason,
            detail: b.detail,
            ...(b.treeSize !== undefined ? { tree_size: b.treeSize } : {}),
            ...(b.seq !== undefined ? { seq: b.seq } : {}),
          },
        }
      : {}),
  };
}

/** The audit log, for auditors: its events (each exactly the object its leaf commits to) and its verification. */
export function auditHandlers(deps: AuditRouteDeps) {
  let ring: ReturnType<typeof auditKeyring> | undefined;
  return {
    async events(req, res) {
      const q = parseInput(eventsQuery, req.query, 'query');
      await authorizeAuditRead(deps.access, req);
      // Every event committed before this request (this read's own decision included) is listed.
      await awaitSequenced(deps.db, { timeoutMs: READ_YOUR_WRITES_MS, kick: deps.auditSequencer.kick });
      const events = await listAuditEvents(deps.db, {
        ...(q.task ? { taskId: q.task } : {}),
        ...(q.grant ? { grantId: q.grant } : {}),
        ...(q.principal ? { principal: q.principal } : {}),
        ...(q.after !== undefined ? { afterLeaf: q.after } : {}),
        limit: q.limit,
      });
      res.json({ events, next: events.at(-1)?.leaf_index ?? q.after ?? null });
    },
    async verify(req, res) {
      await authorizeAuditRead(deps.access, req);
      ring ??= auditKeyring(deps.auditKeys.jwks());
      res.status(200).json(verifyReportBody(await verifyAuditLog(deps.db, await ring)));
    },
  } satisfies Record<string, Handler>;
}
