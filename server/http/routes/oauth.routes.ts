import { Router } from 'express';
import { z } from 'zod';
import type { GrantService } from '../../grants/grant.service';
import type { IntrospectionService } from '../../grants/introspection.service';
import { UnauthorizedClient } from '../../grants/introspection.service';
import { GrantlineError } from '../../shared/errors';
import { noStore } from '../middleware/body';
import { parseInput } from '../validate';
import { handle, principalOf } from './route-helpers';

const tokenParam = z.object({
  token: z.string().min(1).max(16384),
  token_type_hint: z.string().max(64).optional(),
});

export function oauthRoutes(deps: { introspection: IntrospectionService; grants: GrantService }): Router {
  const r = Router();
  // RFC 7662 §2: POST, form-encoded (JSON accepted too), by an authenticated resource server.
  r.post(
    '/oauth2/introspect',
    noStore,
    handle(async (req, res) => {
      const { token } = parseInput(tokenParam, req.body);
      res.json(await deps.introspection.introspect(principalOf(req), token));
    }),
  );
  // RFC 7009 §2.2: 200 for unknown or already dead tokens; a live token of another client is refused.
  r.post(
    '/oauth2/revoke',
    noStore,
    handle(async (req, res) => {
      const { token, token_type_hint } = parseInput(tokenParam, req.body);
      if (token_type_hint && token_type_hint !== 'access_token') {
        throw new GrantlineError('unsupported_token_type', 400, 'only access tokens can be revoked here');
      }
      const principal = principalOf(req);
      const found = await deps.introspection.lookup(token);
      if (found) {
        if (found.claims.clientId !== principal.spiffeId) throw new UnauthorizedClient();
        await deps.grants.revoke(principal, found.claims.grantId, 'revoked by its holder (RFC 7009)');
      }
      res.status(200).end();
    }),
  );
  return r;
}
