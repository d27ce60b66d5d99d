import { useState } from 'react';
import { Link } from 'react-router';
import { Failure, Loading, Status } from '../components/Status';
import { api, q } from '../lib/api';
import { safeText, when, workloadName } from '../lib/safe-text';
import type { Task } from '../lib/types';
import { usePolling } from '../lib/use-polling';

const STATUSES = ['', 'open', 'closing', 'closed', 'expired'] as const;

/** Every task with its counters, refreshed every two seconds. */
export function TasksPage() {
  const [status, setStatus] = useState<string>('');
  const tasks = usePolling(() => api.get<{ tasks: Task[] }>(`/tasks${q({ status, limit: 200 })}`), 2000, [
    status,
  ]);
  return (
    <section aria-labelledby="tasks-title">
      <div className="page-head">
        <h1 id="tasks-title">Tasks</h1>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Failure error={tasks.error} />
      {tasks.loading && !tasks.data ? (
        <Loading what="tasks" />
      ) : (
        <table className="grid">
          <caption className="visually-hidden">Tasks, newest first, updated live</caption>
          <thead>
            <tr>
              <th scope="col">Purpose</th>
              <th scope="col">Status</th>
              <th scope="col">Owner</th>
              <th scope="col">Grants issued</th>
              <th scope="col">Active</th>
              <th scope="col">Budget spent</th>
              <th scope="col">Risk</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {(tasks.data?.tasks ?? []).map((t) => (
              <tr key={t.id} data-task-id={t.id}>
                <td>
                  <Link to={`/tasks/${t.id}`}>{safeText(t.purpose)}</Link>
                </td>
                <td>
                  <Status value={t.status} />
                </td>
                <td title={t.owner}>{workloadName(t.owner)}</td>
                <td className="num">
                  {t.counters.grants_issued} / {t.limits.max_grants}
                </td>
                <td className="num">{t.counters.active_grants}</td>
                <td className="num">
                  {t.counters.budget_spent} / {t.limits.budget}
                </td>
                <td className="num">{t.context.risk_score ?? 0}</td>
                <td>{when(t.expires_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {tasks.data?.tasks.length === 0 && <p className="muted">No tasks.</p>}
    </section>
  );
}
