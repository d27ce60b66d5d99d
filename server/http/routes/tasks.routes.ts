import { Router } from 'express';
import { requestGrantSchema } from '../../grants/grant.schema';
import type { GrantService } from '../../grants/grant.service';
import { approvalSchema, closeTaskSchema, listTasksSchema, openTaskSchema } from '../../tasks/task.schema';
import type { TaskService } from '../../tasks/task.service';
import { noStore } from '../middleware/body';
import { parseInput } from '../validate';
import { handle, idParam, principalOf } from './route-helpers';

export function taskRoutes(deps: { tasks: TaskService; grants: GrantService }): Router {
  const r = Router();
  r.post(
    '/v1/tasks',
    handle(async (req, res) => {
      const task = await deps.tasks.open(principalOf(req), parseInput(openTaskSchema, req.body));
      res.status(201).location(`/v1/tasks/${task.id}`).json(task);
    }),
  );
  r.get(
    '/v1/tasks',
    handle(async (req, res) => {
      const q = parseInput(listTasksSchema, req.query, 'query');
      res.json({ tasks: await deps.tasks.list(principalOf(req), q) });
    }),
  );
  r.get(
    '/v1/tasks/:id',
    handle(async (req, res) => {
      res.json(await deps.tasks.get(principalOf(req), idParam(req)));
    }),
  );
  r.post(
    '/v1/tasks/:id/approvals',
    handle(async (req, res) => {
      const approval = await deps.tasks.approve(
        principalOf(req),
        idParam(req),
        parseInput(approvalSchema, req.body),
      );
      res.status(201).json(approval);
    }),
  );
  r.post(
    '/v1/tasks/:id/close',
    handle(async (req, res) => {
      const { reason } = parseInput(closeTaskSchema, req.body);
      res.json(await deps.tasks.close(principalOf(req), idParam(req), reason));
    }),
  );
  r.get(
    '/v1/tasks/:id/receipt',
    handle(async (req, res) => {
      res.json(await deps.tasks.receipt(principalOf(req), idParam(req)));
    }),
  );
  r.post(
    '/v1/tasks/:id/grants',
    noStore,
    handle(async (req, res) => {
      const grant = await deps.grants.request(
        principalOf(req),
        idParam(req),
        parseInput(requestGrantSchema, req.body),
      );
      res.status(201).json(grant);
    }),
  );
  return r;
}
