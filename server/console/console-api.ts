import type { RequestHandler } from 'express';
import { approvalRequestHandlers } from '../http/routes/approval-requests.routes';
import { auditHandlers } from '../http/routes/audit.routes';
import type { RouteServices } from '../http/routes/index';
import { lineageHandlers } from '../http/routes/lineage.routes';
import { type Handler, idParam } from '../http/routes/route-helpers';
import { taskHandlers } from '../http/routes/tasks.routes';
import { parseInput } from '../http/validate';
import { consoleDecisionSchema } from '../tasks';

export interface ConsoleRoute {
  method: 'get' | 'post';
  path: string;
  handler: Handler | RequestHandler;
}

/**
 * The console's JSON API under `/console/api`: the same handlers (and so the same validation, policy
 * decisions and views) as the SVID API, called by the signed-in person instead of a workload; a
 * person's approval decision takes no `approver` name, since who decided is the session.
 */
export function consoleApiRoutes(
  s: Pick<
    RouteServices,
    'tasks' | 'lineage' | 'approvalRequests' | 'db' | 'access' | 'auditSequencer' | 'auditKeys'
  >,
) {
  const tasks = taskHandlers(s.tasks);
  const lineage = lineageHandlers(s.lineage);
  const audit = auditHandlers(s);
  const approvals = approvalRequestHandlers(s.approvalRequests);
  const decide: Handler = async (req, res) => {
    const input = parseInput(consoleDecisionSchema, req.body);
    res.json(await s.approvalRequests.decide(req.human!, idParam(req), input));
  };
  const session: Handler = (req, res) => {
    const human = req.human!;
    res.set('Cache-Control', 'no-store').json({
      name: human.name,
      issuer: human.issuer,
      subject: human.subject,
      roles: human.roles,
      csrf_token: req.consoleSession!.csrf,
      expires_at: req.consoleSession!.expiresAt.toISOString(),
    });
  };
  const routes: ConsoleRoute[] = [
    { method: 'get', path: '/session', handler: session },
    { method: 'get', path: '/tasks', handler: tasks.list },
    { method: 'get', path: '/tasks/:id', handler: tasks.get },
    { method: 'get', path: '/tasks/:id/receipt', handler: tasks.receipt },
    { method: 'get', path: '/tasks/:id/lineage', handler: lineage.ofTask },
    { method: 'get', path: '/audit/events', handler: audit.events },
    { method: 'get', path: '/audit/verify', handler: audit.verify },
    { method: 'get', path: '/approval-requests', handler: approvals.list },
    { method: 'get', path: '/approval-requests/:id', handler: approvals.get },
    { method: 'post', path: '/approval-requests/:id/decision', handler: decide },
  ];
  return routes;
}
