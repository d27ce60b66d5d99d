import type { DomainUnitOfWork } from '../access/unit';
import { lockOneExpiredTask } from './task.repository';
import { closeTask, type GrantsOfTask } from './task-close';

/**
 * Tasks past their TTL close through the same path as an explicit close, one task per unit (so two
 * sweeping brokers never deadlock), skipping tasks another unit holds.
 */
export async function expireTasks(
  deps: { uow: DomainUnitOfWork; grants: GrantsOfTask; onQueued: () => Promise<void> | void },
  now: Date,
): Promise<number> {
  let closed = 0;
  for (;;) {
    const n = await deps.uow.run({}, async (w) => {
      const task = await lockOneExpiredTask(w.tx, now);
      if (!task) return 0;
      await closeTask(w, task, {
        reason: 'task ttl expired',
        principal: null,
        finalStatus: 'expired',
        grants: deps.grants,
      });
      w.afterCommit(deps.onQueued);
      return 1;
    });
    closed += n;
    if (n === 0) return closed;
  }
}
