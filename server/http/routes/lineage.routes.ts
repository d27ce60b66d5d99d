import type { LineageService } from '../../grants/lineage.service';
import { type Handler, idParam, principalOf } from './route-helpers';

/** Lineage, for auditors: a grant's path and subtree, or a task's whole delegation tree. */
export function lineageHandlers(lineage: LineageService) {
  return {
    async ofGrant(req, res) {
      res.json(await lineage.ofGrant(principalOf(req), idParam(req)));
    },
    async ofTask(req, res) {
      res.json(await lineage.ofTask(principalOf(req), idParam(req)));
    },
  } satisfies Record<string, Handler>;
}
