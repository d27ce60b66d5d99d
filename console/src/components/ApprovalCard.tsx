import { type FormEvent, useId, useState } from 'react';
import { api } from '../lib/api';
import { safeText, when, workloadName } from '../lib/safe-text';
import type { ApprovalRequest } from '../lib/types';
import { Status } from './Status';

function DecisionForm({ request, onDecided }: { request: ApprovalRequest; onDecided: () => void }) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [ttl, setTtl] = useState('10m');
  const [singleUse, setSingleUse] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const decide = async (decision: 'approve' | 'deny', e?: FormEvent) => {
    e?.preventDefault();
    if (!reason.trim()) return setError('Give a reason: it goes on the record.');
    setBusy(true);
    try {
      await api.post(`/approval-requests/${request.id}/decision`, {
        decision,
        reason: reason.trim(),
        ...(decision === 'approve' ? { ttl, single_use: singleUse } : {}),
      });
      onDecided();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="decision"
      onSubmit={(e) => decide('approve', e)}
      aria-label={`Decide request ${request.id}`}
    >
      <label htmlFor={`${id}-reason`}>Reason</label>
      <input
        id={`${id}-reason`}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        maxLength={500}
        required
      />
      <label htmlFor={`${id}-ttl`}>Approval lasts</label>
      <select id={`${id}-ttl`} value={ttl} onChange={(e) => setTtl(e.target.value)}>
        <option value="5m">5 minutes</option>
        <option value="10m">10 minutes</option>
        <option value="1h">1 hour</option>
      </select>
      <label>
        <input type="checkbox" checked={singleUse} onChange={(e) => setSingleUse(e.target.checked)} /> One use
        only
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => decide('deny')}>
          Deny
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

/** One approval request: everything the approver weighs, and (when pending) the decision form. */
export function ApprovalCard(props: { request: ApprovalRequest; canDecide: boolean; onDecided: () => void }) {
  const r = props.request;
  return (
    <article className="card" aria-labelledby={`req-${r.id}`} data-request-id={r.id}>
      <h2 id={`req-${r.id}`}>
        {workloadName(r.agent)} asks for {r.scopes.join(', ')} <Status value={r.status} />
      </h2>
      <dl className="facts">
        <dt>Task</dt>
        <dd>{safeText(r.task.purpose ?? r.task.id)}</dd>
        <dt>Agent</dt>
        <dd>{r.agent}</dd>
        <dt>Tool and target</dt>
        <dd>
          {safeText(r.tool ?? '–')} → {safeText(r.target ?? '–')} (audience {safeText(r.audience)})
        </dd>
        {r.intent && (
          <>
            <dt>Intent</dt>
            <dd>{safeText(r.intent)}</dd>
          </>
        )}
        <dt>Arguments</dt>
        <dd>
          <pre className="args">{safeText(r.args_preview ?? '(no preview given)')}</pre>
          <code className="small">{r.args_digest}</code>
        </dd>
        <dt>Risk</dt>
        <dd>
          risk score {r.risk.risk_score}, {r.risk.data_sensitivity} data, {r.risk.task_type};{' '}
          {r.risk.scopes.map((s) => `${s.name} (${s.sensitivity}, cost ${s.cost})`).join(', ')}
        </dd>
        <dt>{r.status === 'pending' ? 'Expires' : 'Asked'}</dt>
        <dd>{when(r.status === 'pending' ? r.expires_at : r.created_at)}</dd>
        {r.decision && (
          <>
            <dt>Decision</dt>
            <dd>
              {r.decision.outcome} by {safeText(r.decision.by.name)} ({r.decision.by.subject} @{' '}
              {r.decision.by.issuer}) : {safeText(r.decision.reason)}
            </dd>
          </>
        )}
      </dl>
      {props.canDecide && r.status === 'pending' && <DecisionForm request={r} onDecided={props.onDecided} />}
    </article>
  );
}
