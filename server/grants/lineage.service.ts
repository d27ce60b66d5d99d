import { grantLineage, taskLineage } from '../audit/lineage';
import type { Db } from '../db/database';
import type { Principal } from '../identity';
import type { Clock } from '../shared/clock';
import type { AccessControl } from '../tasks/access';
import { TaskNotFound } from '../tasks/task.errors';
import { findTask } from '../tasks/task.repository';
import { taskFacts } from '../tasks/task.service';
import { taskView } from '../tasks/task.view';
import { GrantNotFound } from './grant.errors';
import { findGrant } from './grant.repository';

/** Lineage for auditors (and the task's owner): who acted for whom, under which constraints and decisions. */
export function createLineageService(deps: { db: Db; access: AccessControl; clock: Clock }) {
  async function authorize(principal: Principal, taskId: string, grantId?: string) {
    const task = await findTask(deps.db, taskId);
    if (!task) throw new TaskNotFound();
    const req = { action: 'ReadLineage' as const, task: taskFacts(task) };
    const decision = deps.access.evaluate(principal, req);
    if (!decision.allowed) {
      await deps.access.record(principal, req, decision, { taskId, ...(grantId ? { grantId } : {}) });
      throw grantId ? new GrantNotFound() : new TaskNotFound();
    }
    await deps.access.record(principal, req, decision, { taskId, ...(grantId ? { grantId } : {}) });
    return task;
  }

  return {
    async ofTask(principal: Principal, taskId: string) {
      const task = await authorize(principal, taskId);
      return { task: taskView(task, deps.clock.now()), grants: await taskLineage(deps.db, taskId) };
    },
    async ofGrant(principal: Principal, grantId: string) {
      const grant = await findGrant(deps.db, grantId);
      if (!grant) throw new GrantNotFound();
      const task = await authorize(principal, grant.task_id, grantId);
      const lineage = (await grantLineage(deps.db, grantId))!;
      return {
        task: taskView(task, deps.clock.now()),
        path: lineage.path.map(({ children: _c, ...node }) => node),
        subtree: lineage.subtree,
      };
    },
  };
}

export type LineageService = ReturnType<typeof createLineageService>;
