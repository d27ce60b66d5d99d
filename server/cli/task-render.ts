import type { Receipt } from '../revocation/receipt';
import type { TaskView } from '../tasks/task.view';
import { formatDuration } from './cli-args';
import { formatFields, formatTable } from './cli-output';

/** The API's approval view (server/tasks/task.view.ts `approvalView`), as JSON. */
export interface ApprovalJson {
  id: string;
  scope: string;
  approver: string;
  note: string | null;
  single_use: boolean;
  args_digest: string | null;
  expires_at: string;
}

const list = (values: string[]) => (values.length ? values.join(', ') : '-');

/** The task's id first (so `| head -1` yields it), then one fact per line. */
export function renderTask(t: TaskView): string[] {
  const ctx = t.context as Record<string, unknown>;
  return [
    t.id,
    ...formatFields([
      ['status', t.status],
      ['purpose', t.purpose],
      ['owner', t.owner],
      ['agents', list(t.agents)],
      ['delegates', list(t.delegates ?? [])],
      ['scopes', list(t.scopes)],
      ['audiences', list(t.audiences ?? [])],
      ['ttl', formatDuration(t.ttl)],
      [
        'expires',
        t.status === 'open' ? `${t.expires_at} (in ${formatDuration(t.expires_in)})` : t.expires_at,
      ],
      [
        'limits',
        `grants ${t.limits.max_grants}, active ${t.limits.max_active}, depth ${t.limits.max_depth}, fanout ${t.limits.max_fanout}, budget ${t.limits.budget}`,
      ],
      [
        'counters',
        `issued ${t.counters.grants_issued}, active ${t.counters.active_grants}, budget spent ${t.counters.budget_spent} (left ${t.counters.budget_remaining})`,
      ],
      [
        'context',
        `type ${ctx.task_type ?? '-'}, sensitivity ${ctx.data_sensitivity ?? '-'}, risk ${ctx.risk_score ?? '-'}`,
      ],
      ['policy', t.policy_version],
      ['closed', t.closed_at ?? undefined],
      ['reason', t.close_reason ?? undefined],
    ]),
  ];
}

export function renderTaskList(tasks: TaskView[]): string[] {
  if (!tasks.length) return ['no tasks'];
  const rows = tasks.map((t) => [t.id, t.status, t.expires_at, t.purpose]);
  return formatTable([['ID', 'STATUS', 'EXPIRES', 'PURPOSE'], ...rows]);
}

export function renderApproval(a: ApprovalJson): string[] {
  return [
    a.id,
    ...formatFields([
      ['scope', a.scope],
      ['approver', a.approver],
      ['expires', a.expires_at],
      ['single use', a.single_use ? 'yes' : 'no'],
      ['args digest', a.args_digest ?? undefined],
      ['note', a.note ?? undefined],
    ]),
  ];
}

/** What `task close` prints: the receipt in brief (the full table is `grantline receipt`). */
export function renderReceiptSummary(r: Receipt): string[] {
  const states = Object.entries(r.summary.lease_states)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return [
    r.task_id,
    ...formatFields([
      ['status', r.status],
      ['reason', r.close_reason],
      ['grants', r.summary.grants],
      ['leases', `${r.summary.leases}${states ? ` (${states})` : ''}`],
      ['pending jobs', r.summary.pending_jobs],
      [
        'complete',
        r.complete ? 'yes' : 'no (revocation continues in the background; see `grantline receipt`)',
      ],
    ]),
  ];
}
