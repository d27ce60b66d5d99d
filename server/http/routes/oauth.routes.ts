import { z } from 'zod';
import { tokenExchangeSchema } from '../../grants/delegation.schema';
import type { GrantService } from '../../grants/grant.service';
import type { IntrospectionService } from '../../grants/introspection.service';
import { UnauthorizedClient, UnsupportedTokenType } from '../../shared/errors';
import { parseInput } from '../validate';
import { type Handler, principalOf } from './route-helpers';

const tokenParam = z.object({
  token: z.string().min(1).max(16384),
  token_type_hint: z.string().max(64).optional(),
});

/** The OAuth endpoints (form-encoded or JSON), with RFC 6749 §5.2 error bodies. */
export function oauthHandlers(deps: { grants: GrantService; introspection: IntrospectionService }) {
  return {
    /** RFC 8693 §2.3: 200 with the issued token. */
    async token(req, res) {
      res
        .status(200)
        .json(await deps.grants.redeem(principalOf(req), parseInput(tokenExchangeSchema, req.body)));
    },
    /** RFC 7662 §2: by an authenticated resource server. */
    async introspect(req, res) {
      const { token } = parseInput(tokenParam, req.body);
      res.json(await deps.introspection.introspect(principalOf(req), token));
    },
    /** RFC 7009 §2.2: 200 for unknown or already dead tokens; a live token of another client is refused. */
    async revoke(req, res) {
      const { token, token_type_hint } = parseInput(tokenParam, req.body);
      if (token_type_hint && token_type_hint !== 'access_token')
        throw new UnsupportedTokenType('only access tokens can be revoked here');
      const principal = principalOf(req);
      const found = await deps.introspection.lookup(token);
      if (found) {
        if (found.claims.clientId !== principal.spiffeId)
          throw new UnauthorizedClient('the token was not issued to the calling client');
        await deps.grants.revoke(principal, found.claims.grantId, 'revoked by its holder (RFC 7009)');
      }
      res.status(200).end();
    },
  } satisfies Record<string, Handler>;
}
