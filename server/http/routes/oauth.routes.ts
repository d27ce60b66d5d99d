import { z } from 'zod';
import { tokenExchangeSchema } from '../../grants/delegation.schema';
import type { GrantService } from '../../grants/grant.service';
import type { IntrospectionService } from '../../grants/introspection.service';
import { parseInput } from '../validate';
import { type Handler, principalOf } from './route-helpers';

// RFC 7009 §2.1 / RFC 7662 §2.1: `token_type_hint` is only a hint, so any value is accepted and ignored
// (Grantline has one token type, and an unknown hint must not stop the search).
export const tokenParam = z.object({
  token: z.string().min(1).max(16384),
  token_type_hint: z.string().optional(),
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
    /**
     * RFC 7009 §2.2: 200 whether the caller's token was revoked now or was already dead, and 200 for any
     * token it does not hold (unknown, malformed, or another client's, which stays untouched): a
     * different answer would tell the caller that someone else's token is live.
     */
    async revoke(req, res) {
      const { token } = parseInput(tokenParam, req.body);
      const principal = principalOf(req);
      const found = await deps.introspection.lookup(token);
      if (found?.claims.clientId === principal.spiffeId)
        await deps.grants.revoke(principal, found.claims.grantId, 'revoked by its holder (RFC 7009)');
      else if (found)
        req.log?.info({ grantId: found.claims.grantId }, "revocation of another client's token ignored");
      res.status(200).end();
    },
  } satisfies Record<string, Handler>;
}
