import { Router } from 'express';
import { revokeGrantSchema } from '../../grants/grant.schema';
import type { GrantService } from '../../grants/grant.service';
import { parseInput } from '../validate';
import { handle, idParam, principalOf } from './route-helpers';

export function grantRoutes(deps: { grants: GrantService }): Router {
  const r = Router();
  r.post(
    '/v1/grants/:id/revoke',
    handle(async (req, res) => {
      const { reason } = parseInput(revokeGrantSchema, req.body);
      res.json(await deps.grants.revoke(principalOf(req), idParam(req), reason));
    }),
  );
  return r;
}
