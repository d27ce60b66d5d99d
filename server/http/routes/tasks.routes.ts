import type { TaskService } from '../../tasks';
import { approvalSchema, closeTaskSchema, listTasksSchema, openTaskSchema } from '../../tasks/task.schema';
import { parseInput } from '../validate';
import { actorOf, type Handler, idParam, principalOf } from './route-helpers';

/** `/v1/tasks…`: the orchestrator's resource. */
export function taskHandlers(tasks: TaskService) {
  return {
    async open(req, res) {
      const task = await tasks.open(principalOf(req), parseInput(openTaskSchema, req.body));
      res.status(201).location(`/v1/tasks/${task.id}`).json(task);
    },
    async list(req, res) {
      const q = parseInput(listTasksSchema, req.query, 'query');
      res.json({ tasks: await tasks.list(actorOf(req), q) });
    },
    async get(req, res) {
      res.json(await tasks.get(actorOf(req), idParam(req)));
    },
    async approve(req, res) {
      const input = parseInput(approvalSchema, req.body);
      res.status(201).json(await tasks.approve(principalOf(req), idParam(req), input));
    },
    async close(req, res) {
      const { reason } = parseInput(closeTaskSchema, req.body);
      res.json(await tasks.close(principalOf(req), idParam(req), reason));
    },
    async receipt(req, res) {
      res.json(await tasks.receipt(actorOf(req), idParam(req)));
    },
  } satisfies Record<string, Handler>;
}
