import type { DomainUnitOfWork } from '../access/unit';
import type { ApprovalChanges } from './approval-changes';
import { expirePending } from './approval-request.repository';

/** Pending requests past their expiry become `expired`, on the record; their waiters are woken. */
export async function expireApprovalRequests(
  deps: { uow: DomainUnitOfWork; changes: ApprovalChanges },
  now: Date,
): Promise<number> {
  const expired = await deps.uow.run({}, async (w) => {
    const rows = await expirePending(w.tx, now);
    for (const r of rows)
      w.audit({
        type: 'approval_request.expired',
        taskId: r.task_id,
        principal: null,
        payload: { approval_request_id: r.id, scopes: r.scopes },
      });
    return rows;
  });
  for (const r of expired) deps.changes.changed(r.id);
  return expired.length;
}
