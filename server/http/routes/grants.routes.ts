import { offerDelegationSchema } from '../../grants/delegation.schema';
import { requestGrantSchema, revokeGrantSchema } from '../../grants/grant.schema';
import type { GrantService } from '../../grants/grant.service';
import { usageReportSchema } from '../../grants/usage.schema';
import { parseInput } from '../validate';
import { type Handler, idParam, principalOf } from './route-helpers';

/** Grants: requested on a task, delegated onwards, revoked with their subtree, metered by their tools. */
export function grantHandlers(grants: GrantService) {
  return {
    async request(req, res) {
      const input = parseInput(requestGrantSchema, req.body);
      const outcome = await grants.request(principalOf(req), idParam(req), input);
      // RFC 9110 §15.3.3: 202, the request is accepted and waits for an approver; poll names where.
      if ('pending' in outcome) res.status(202).location(outcome.pending.poll).json(outcome.pending);
      else res.status(201).json(outcome.issued);
    },
    async offer(req, res) {
      const input = parseInput(offerDelegationSchema, req.body);
      res.status(201).json(await grants.offer(principalOf(req), idParam(req), input));
    },
    async revoke(req, res) {
      const { reason } = parseInput(revokeGrantSchema, req.body);
      res.json(await grants.revoke(principalOf(req), idParam(req), reason));
    },
    async usage(req, res) {
      const input = parseInput(usageReportSchema, req.body);
      res.json(await grants.reportUsage(principalOf(req), idParam(req), input));
    },
  } satisfies Record<string, Handler>;
}
