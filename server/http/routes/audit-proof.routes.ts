import type { Request } from 'express';
import { z } from 'zod';
import {
  awaitCheckpoint,
  consistencyProof,
  currentCheckpoint,
  inclusionProof,
  listCheckpoints,
  loggedEventAt,
} from '../../audit';
import { NotFound, Unavailable } from '../../shared/errors';
import { parseInput } from '../validate';
import { type AuditRouteDeps, authorizeAuditRead } from './audit.routes';
import type { Handler } from './route-helpers';

/** How long an on-demand checkpoint may wait for the sequencer (whichever broker leads it). */
const ON_DEMAND_TIMEOUT_MS = 5000;

const count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const checkpointsQuery = z.strictObject({
  after: count.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const proofQuery = z.strictObject({ tree_size: count.min(1).optional() });
const consistencyQuery = z.strictObject({ first: count.min(1), second: count.min(1).optional() });
/** An on-demand checkpoint takes no input: any field is bad input (a clear 400, nothing signed). */
export const onDemandCheckpointBody = z.strictObject({});

function leafParam(req: Request): number {
  const raw = String(req.params.leaf_index);
  const index = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(index)) throw new NotFound('no such leaf index');
  return index;
}

/**
 * RFC 9162 for auditors (issue 13 §3–4): signed tree heads, inclusion proofs of single events and
 * consistency proofs between tree heads, checkable with any RFC 9162 implementation and the JWKS.
 */
export function auditProofHandlers(deps: AuditRouteDeps) {
  const authorize = (req: Request) => authorizeAuditRead(deps.access, req);
  return {
    async checkpoint(req, res) {
      await authorize(req);
      res.json(await currentCheckpoint(deps.db));
    },
    /** On demand: a checkpoint covering every event committed before the request. */
    async signNow(req, res) {
      parseInput(onDemandCheckpointBody, req.body, 'body');
      await authorize(req);
      const sequencer = deps.auditSequencer;
      // Sign now if this broker leads; otherwise wait for the leader's next checkpoint (≤ its interval).
      const signed = sequencer.isLeader() ? await sequencer.runOnce({ forceCheckpoint: true }) : undefined;
      const cp =
        signed ?? (await awaitCheckpoint(deps.db, { timeoutMs: ON_DEMAND_TIMEOUT_MS, kick: sequencer.kick }));
      if (!cp)
        throw new Unavailable(
          'the audit sequencer did not sign a checkpoint in time; is a broker leading it?',
        );
      res.status(201).json(cp);
    },
    async checkpoints(req, res) {
      const q = parseInput(checkpointsQuery, req.query, 'query');
      await authorize(req);
      const checkpoints = await listCheckpoints(deps.db, q.after, q.limit);
      res.json({ checkpoints, next: checkpoints.at(-1)?.tree_size ?? q.after });
    },
    async event(req, res) {
      const index = leafParam(req);
      await authorize(req);
      res.json(await loggedEventAt(deps.db, index));
    },
    async inclusion(req, res) {
      const index = leafParam(req);
      const q = parseInput(proofQuery, req.query, 'query');
      await authorize(req);
      res.json(await inclusionProof(deps.db, index, q.tree_size));
    },
    async consistency(req, res) {
      const q = parseInput(consistencyQuery, req.query, 'query');
      await authorize(req);
      res.json(await consistencyProof(deps.db, q.first, q.second));
    },
  } satisfies Record<string, Handler>;
}

/** The proof routes, for the route table (routes/index.ts spreads them in). */
export function auditProofRoutes(
  deps: AuditRouteDeps,
): Array<{ method: 'get' | 'post'; path: string; handler: Handler }> {
  const h = auditProofHandlers(deps);
  return [
    { method: 'get', path: '/v1/audit/checkpoint', handler: h.checkpoint },
    { method: 'post', path: '/v1/audit/checkpoints', handler: h.signNow },
    { method: 'get', path: '/v1/audit/checkpoints', handler: h.checkpoints },
    { method: 'get', path: '/v1/audit/events/:leaf_index', handler: h.event },
    { method: 'get', path: '/v1/audit/events/:leaf_index/proof', handler: h.inclusion },
    { method: 'get', path: '/v1/audit/consistency', handler: h.consistency },
  ];
}
