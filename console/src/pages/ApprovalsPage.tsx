import { useState } from 'react';
import { ApprovalCard } from '../components/ApprovalCard';
import { Failure, Loading } from '../components/Status';
import { api, q } from '../lib/api';
import { hasRole, useSession } from '../lib/session';
import type { ApprovalRequest } from '../lib/types';
import { usePolling } from '../lib/use-polling';

/** The approvals inbox: privileged requests waiting for a person, refreshed every second. */
export function ApprovalsPage() {
  const session = useSession();
  const [status, setStatus] = useState('pending');
  const inbox = usePolling(
    () => api.get<{ approval_requests: ApprovalRequest[] }>(`/approval-requests${q({ status, limit: 100 })}`),
    1000,
    [status],
  );
  const requests = inbox.data?.approval_requests ?? [];
  const canDecide = hasRole(session, 'approver');
  return (
    <section aria-labelledby="approvals-title">
      <div className="page-head">
        <h1 id="approvals-title">Approvals</h1>
        <label>
          Show{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="pending">pending</option>
            <option value="approved">approved</option>
            <option value="denied">denied</option>
            <option value="expired">expired</option>
            <option value="">all</option>
          </select>
        </label>
      </div>
      <Failure error={inbox.error} />
      <p aria-live="polite" className="muted">
        {inbox.data ? `${requests.length} ${status || ''} request${requests.length === 1 ? '' : 's'}` : ''}
      </p>
      {inbox.loading && !inbox.data && <Loading what="the inbox" />}
      <ul className="cards">
        {requests.map((r) => (
          <li key={r.id}>
            <ApprovalCard request={r} canDecide={canDecide} onDecided={inbox.reload} />
          </li>
        ))}
      </ul>
    </section>
  );
}
