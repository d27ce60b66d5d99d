import { Router } from 'express';
import { offerDelegationSchema, tokenExchangeSchema } from '../../grants/delegation.schema';
import type { DelegationService } from '../../grants/delegation.service';
import type { LineageService } from '../../grants/lineage.service';
import { noStore } from '../middleware/body';
import { parseInput } from '../validate';
import { handle, idParam, principalOf } from './route-helpers';

export function delegationRoutes(deps: { delegations: DelegationService; lineage: LineageService }): Router {
  const r = Router();
  r.post(
    '/v1/grants/:id/delegations',
    noStore,
    handle(async (req, res) => {
      const offer = await deps.delegations.offer(
        principalOf(req),
        idParam(req),
        parseInput(offerDelegationSchema, req.body),
      );
      res.status(201).json(offer);
    }),
  );
  // RFC 8693 §2.3: 200 with the issued token; errors are RFC 6749 §5.2 bodies (400).
  r.post(
    '/oauth2/token',
    noStore,
    handle(async (req, res) => {
      res
        .status(200)
        .json(await deps.delegations.redeem(principalOf(req), parseInput(tokenExchangeSchema, req.body)));
    }),
  );
  r.get(
    '/v1/grants/:id/lineage',
    handle(async (req, res) => {
      res.json(await deps.lineage.ofGrant(principalOf(req), idParam(req)));
    }),
  );
  r.get(
    '/v1/tasks/:id/lineage',
    handle(async (req, res) => {
      res.json(await deps.lineage.ofTask(principalOf(req), idParam(req)));
    }),
  );
  return r;
}
