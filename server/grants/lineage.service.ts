import type { Access } from '../access/access';
import { grantLineage, taskLineage } from '../audit/lineage';
import type { Db } from '../db/database';
import type { Actor } from '../identity';
import type { Clock } from '../shared/clock';
import { authorizeOnTask, taskView } from '../tasks';
import { GrantNotFound } from './grant.errors';
import { findGrant } from './grant.repository';

/** Lineage for auditors (and the task's owner): who acted for whom, under which constraints and decisions. */
export function createLineageService(deps: { db: Db; access: Access; clock: Clock }) {
  /** ReadLineage on the task; a refusal is 404 (of the grant when one was asked for), on the record. */
  async function authorize(principal: Actor, taskId: string, grantId?: string) {
    const { task, allowed } = await authorizeOnTask(deps, principal, taskId, 'ReadLineage', {
      ...(grantId ? { grantId, notFound: () => new GrantNotFound() } : {}),
    });
    await deps.access.recordAllowed(allowed);
    return task;
  }

  return {
    async ofTask(principal: Actor, taskId: string) {
      const task = await authorize(principal, taskId);
      return { task: taskView(task, deps.clock.now()), grants: await taskLineage(deps.db, taskId) };
    },
    /**
     * The lineage is read while the decision is made (and recorded): nothing of it leaves unless the
     * decision allows, and the answer waits for the slower of the two instead of their sum.
     */
    async ofGrant(principal: Actor, grantId: string) {
      const decided = async () => {
        const grant = await findGrant(deps.db, grantId);
        if (!grant) throw new GrantNotFound();
        return authorize(principal, grant.task_id, grantId);
      };
      const [task, read] = await Promise.all([decided(), grantLineage(deps.db, grantId)]);
      // A grant that committed between the two reads: the lineage is read again, now that it exists.
      const lineage = (read ?? (await grantLineage(deps.db, grantId)))!;
      return {
        task: taskView(task, deps.clock.now()),
        path: lineage.path.map(({ children: _c, ...node }) => node),
        subtree: lineage.subtree,
      };
    },
  };
}

export type LineageService = ReturnType<typeof createLineageService>;
