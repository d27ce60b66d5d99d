import { safeText, shortId, workloadName } from '../lib/safe-text';
import type { Receipt, ReceiptLease } from '../lib/types';
import { Status } from './Status';

function LeaseRow({ lease, holder }: { lease: ReceiptLease; holder: string }) {
  return (
    <tr>
      <td title={holder}>{workloadName(holder)}</td>
      <td>{lease.kind}</td>
      <td>{lease.scope ?? '–'}</td>
      <td title={lease.lease_id ?? lease.token_accessor ?? ''}>
        {shortId(lease.lease_id ?? lease.token_accessor, 14)}
      </td>
      <td>
        <Status value={lease.state} />
      </td>
      <td className="num">{lease.attempts}</td>
      <td>{safeText(lease.last_error ?? '')}</td>
    </tr>
  );
}

/**
 * The revocation receipt: every Vault token and lease of the task with its state, live while the task
 * closes. "Complete" means the task is closed and every item is confirmed revoked or expired.
 */
export function ReceiptPanel({ receipt }: { receipt: Receipt }) {
  const states = Object.entries(receipt.summary.lease_states)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const rows = [
    ...(receipt.task_token ? [{ lease: receipt.task_token, holder: 'task' }] : []),
    ...receipt.grants.flatMap((g) => g.leases.map((lease) => ({ lease, holder: g.holder }))),
  ];
  return (
    <section aria-labelledby="receipt-title" className="receipt">
      <h2 id="receipt-title">Revocation receipt</h2>
      <p
        aria-live="polite"
        data-testid="receipt-status"
        className={receipt.complete ? 'complete' : 'incomplete'}
      >
        {receipt.complete ? (
          <strong>Complete: every credential of the task is confirmed revoked.</strong>
        ) : receipt.status === 'open' ? (
          'The task is open: nothing is revoked yet.'
        ) : (
          `Revoking: ${states || 'no leases'}; ${receipt.summary.pending_jobs} job(s) pending.`
        )}
      </p>
      <p className="muted small">
        Task <Status value={receipt.status} /> · {receipt.summary.grants} grants · {receipt.summary.leases}{' '}
        tokens and leases ({states || 'none'})
        {receipt.close_reason ? ` · closed: ${safeText(receipt.close_reason)}` : ''}
      </p>
      <table className="grid">
        <caption className="visually-hidden">
          Vault tokens and leases of the task and their revocation state
        </caption>
        <thead>
          <tr>
            <th scope="col">Holder</th>
            <th scope="col">Kind</th>
            <th scope="col">Scope</th>
            <th scope="col">Lease or accessor</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <LeaseRow key={`${r.lease.kind}-${r.lease.lease_id ?? r.lease.token_accessor}`} {...r} />
          ))}
        </tbody>
      </table>
    </section>
  );
}
