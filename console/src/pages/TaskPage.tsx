import { Link, useParams } from 'react-router';
import { LineageGraph } from '../components/LineageGraph';
import { ReceiptPanel } from '../components/ReceiptPanel';
import { Failure, Loading, Status } from '../components/Status';
import { api } from '../lib/api';
import { safeText, when, workloadName } from '../lib/safe-text';
import type { Lineage, Receipt, Task } from '../lib/types';
import { usePolling } from '../lib/use-polling';

function TaskFacts({ task }: { task: Task }) {
  const c = task.counters;
  return (
    <dl className="facts" aria-live="polite">
      <dt>Status</dt>
      <dd>
        <Status value={task.status} />
      </dd>
      <dt>Owner</dt>
      <dd title={task.owner}>{workloadName(task.owner)}</dd>
      <dt>Agents</dt>
      <dd>{task.agents.map(workloadName).join(', ')}</dd>
      <dt>Scope ceiling</dt>
      <dd>{task.scopes.join(' ')}</dd>
      <dt>Grants</dt>
      <dd>
        {c.grants_issued} issued of {task.limits.max_grants}, {c.active_grants} active of{' '}
        {task.limits.max_active}
      </dd>
      <dt>Budget</dt>
      <dd>
        {c.budget_spent} spent of {task.limits.budget}
      </dd>
      <dt>Risk</dt>
      <dd>
        {task.context.risk_score ?? 0} ({task.context.data_sensitivity ?? 'medium'} data,{' '}
        {task.context.task_type})
      </dd>
      <dt>Expires</dt>
      <dd>{when(task.expires_at)}</dd>
    </dl>
  );
}

/** One task: its facts and counters, its delegation tree and its revocation receipt, all live. */
export function TaskPage() {
  const { id = '' } = useParams();
  const lineage = usePolling(() => api.get<Lineage>(`/tasks/${encodeURIComponent(id)}/lineage`), 2000, [id]);
  const receipt = usePolling(() => api.get<Receipt>(`/tasks/${encodeURIComponent(id)}/receipt`), 1000, [id]);
  const task = lineage.data?.task;
  return (
    <section aria-labelledby="task-title">
      <p>
        <Link to="/tasks">← Tasks</Link>
      </p>
      <h1 id="task-title">{task ? safeText(task.purpose) : 'Task'}</h1>
      <Failure error={lineage.error} />
      {!task ? <Loading what="the task" /> : <TaskFacts task={task} />}
      {task && lineage.data && <LineageGraph task={task} grants={lineage.data.grants} />}
      <Failure error={receipt.error} />
      {receipt.data && <ReceiptPanel receipt={receipt.data} />}
      {task && (
        <p>
          <Link to={`/audit?task=${task.id}`}>Audit events of this task</Link>
        </p>
      )}
    </section>
  );
}
