import type { LineageService } from '../../grants/lineage.service';
import { actorOf, type Handler, idParam } from './route-helpers';

/** Lineage, for auditors: a grant's path and subtree, or a task's whole delegation tree. */
export function lineageHandlers(lineage: LineageService) {
  return {
    async ofGrant(req, res) {
      res.json(await lineage.ofGrant(actorOf(req), idParam(req)));
    },
    async ofTask(req, res) {
      res.json(await lineage.ofTask(actorOf(req), idParam(req)));
    },
  } satisfies Record<string, Handler>;
}
