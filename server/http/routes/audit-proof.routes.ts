import { type Request, Router } from 'express';
import { z } from 'zod';
import {
  type AuditSequencer,
  awaitCheckpoint,
  consistencyProof,
  currentCheckpoint,
  inclusionProof,
  listCheckpoints,
  loggedEventAt,
} from '../../audit';
import type { Db } from '../../db/database';
import { NotFound, Unavailable } from '../../shared/errors';
import type { AccessControl } from '../../tasks/access';
import { parseInput } from '../validate';
import { handle, principalOf } from './route-helpers';

/** How long an on-demand checkpoint may wait for the sequencer (whichever broker leads it). */
const ON_DEMAND_TIMEOUT_MS = 5000;

const count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const checkpointsQuery = z.strictObject({
  after: count.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const proofQuery = z.strictObject({ tree_size: count.min(1).optional() });
const consistencyQuery = z.strictObject({ first: count.min(1), second: count.min(1).optional() });
const leafIndex = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Only auditors read the log (policy action ReadAudit); every read is itself an audited decision. */
export function auditReader(access: AccessControl) {
  return async (req: Request): Promise<void> => {
    const principal = principalOf(req);
    const decision = access.evaluate(principal, { action: 'ReadAudit' });
    if (!decision.allowed) await access.refuse(principal, { action: 'ReadAudit' }, decision);
    await access.record(principal, { action: 'ReadAudit' }, decision);
  };
}

function leafParam(req: Request): number {
  const parsed = leafIndex.safeParse(req.params.leaf_index);
  if (!parsed.success || !/^\d+$/.test(String(req.params.leaf_index)))
    throw new NotFound('no such leaf index');
  return parsed.data;
}

/**
 * RFC 9162 for auditors (issue 13 §3–4): signed tree heads, inclusion proofs of single events and
 * consistency proofs between tree heads, checkable with any RFC 9162 implementation and the JWKS.
 */
export function auditProofRoutes(deps: { db: Db; access: AccessControl; sequencer: AuditSequencer }): Router {
  const r = Router();
  const authorize = auditReader(deps.access);
  r.get(
    '/v1/audit/checkpoint',
    handle(async (req, res) => {
      await authorize(req);
      res.json(await currentCheckpoint(deps.db));
    }),
  );
  r.post(
    '/v1/audit/checkpoints',
    handle(async (req, res) => {
      await authorize(req);
      // Sign now if this broker leads; otherwise wait for the leader's next checkpoint (≤ its interval).
      const signed = deps.sequencer.isLeader()
        ? await deps.sequencer.runOnce({ forceCheckpoint: true })
        : undefined;
      const cp =
        signed ??
        (await awaitCheckpoint(deps.db, { timeoutMs: ON_DEMAND_TIMEOUT_MS, kick: deps.sequencer.kick }));
      if (!cp)
        throw new Unavailable(
          'the audit sequencer did not sign a checkpoint in time; is a broker leading it?',
        );
      res.status(201).json(cp);
    }),
  );
  r.get(
    '/v1/audit/checkpoints',
    handle(async (req, res) => {
      const q = parseInput(checkpointsQuery, req.query, 'query');
      await authorize(req);
      const checkpoints = await listCheckpoints(deps.db, q.after, q.limit);
      res.json({ checkpoints, next: checkpoints.at(-1)?.tree_size ?? q.after });
    }),
  );
  r.get(
    '/v1/audit/events/:leaf_index',
    handle(async (req, res) => {
      const index = leafParam(req);
      await authorize(req);
      res.json(await loggedEventAt(deps.db, index));
    }),
  );
  r.get(
    '/v1/audit/events/:leaf_index/proof',
    handle(async (req, res) => {
      const index = leafParam(req);
      const q = parseInput(proofQuery, req.query, 'query');
      await authorize(req);
      res.json(await inclusionProof(deps.db, index, q.tree_size));
    }),
  );
  r.get(
    '/v1/audit/consistency',
    handle(async (req, res) => {
      const q = parseInput(consistencyQuery, req.query, 'query');
      await authorize(req);
      res.json(await consistencyProof(deps.db, q.first, q.second));
    }),
  );
  return r;
}
