import type { ApprovalRequestService } from '../../tasks';
import { listApprovalRequestsQuery, waitQuery, workloadDecisionSchema } from '../../tasks';
import { parseInput } from '../validate';
import { actorOf, type Handler, idParam, principalOf } from './route-helpers';

/**
 * `/v1/approval-requests…`: the agent that asked waits on its request (long poll); approver workloads
 * (and auditors) list them; approver workloads decide them. People decide in the console.
 */
export function approvalRequestHandlers(approvals: ApprovalRequestService) {
  return {
    async list(req, res) {
      const q = parseInput(listApprovalRequestsQuery, req.query, 'query');
      res.json({ approval_requests: await approvals.list(actorOf(req), q) });
    },
    async get(req, res) {
      const { wait } = parseInput(waitQuery, req.query, 'query');
      // The poll ends early when the caller goes away.
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      const view = await approvals.read(actorOf(req), idParam(req), {
        waitSeconds: wait,
        signal: gone.signal,
      });
      res.json(view);
    },
    async decide(req, res) {
      const input = parseInput(workloadDecisionSchema, req.body);
      res.json(await approvals.decide(principalOf(req), idParam(req), input));
    },
  } satisfies Record<string, Handler>;
}
