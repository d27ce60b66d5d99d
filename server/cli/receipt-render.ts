import type { Receipt } from '../revocation/receipt';
import { formatTable } from './cli-output';

type LeaseJson = NonNullable<Receipt['task_token']>;
type JobJson = Receipt['jobs'][number];

/** Why a lease is where it is: retry facts while retrying or irrevocable, otherwise when it ended (or ends). */
function leaseDetail(l: LeaseJson): string {
  if (l.state === 'retrying' || l.state === 'irrevocable')
    return `attempts ${l.attempts}${l.last_error ? `, last error: ${l.last_error}` : ''}`;
  if (l.revoked_at) return `revoked ${l.revoked_at}${l.verified_at ? ', verified' : ''}`;
  return l.expires_at ? `expires ${l.expires_at}` : '';
}

function leaseRow(l: LeaseJson, indent: string): string[] {
  return [
    `${indent}${l.kind}`,
    l.lease_id ?? l.token_accessor ?? '-',
    l.scope ?? '-',
    l.state,
    leaseDetail(l),
  ];
}

function jobRow(j: JobJson): string[] {
  const detail = `attempts ${j.attempts}${j.last_error ? `, last error: ${j.last_error}` : ''}`;
  return ['job', j.id, j.kind, j.status, j.status === 'pending' ? `${detail}, due ${j.due_at}` : detail];
}

/**
 * The revocation receipt as a table: the task token, each grant followed by its Vault tokens and leases,
 * the revocation jobs, and a last line `complete: yes/no`. Lease ids and token accessors are handles,
 * not secrets, so they are printed.
 */
export function renderReceipt(r: Receipt): string[] {
  const header = `task ${r.task_id}  ${r.status}${r.close_reason ? `  (${r.close_reason})` : ''}`;
  const rows: string[][] = [['KIND', 'ID', 'HOLDER / SCOPE', 'STATE', 'DETAIL']];
  if (r.task_token) rows.push(leaseRow(r.task_token, ''));
  for (const g of r.grants) {
    const ended = g.revoked_at ? `revoked ${g.revoked_at}` : `expires ${g.expires_at}`;
    const parent = g.parent_id ? `, child of ${g.parent_id}` : '';
    rows.push(['grant', g.grant_id, `${g.holder} [${g.scopes.join(' ')}]`, g.status, `${ended}${parent}`]);
    for (const l of g.leases) rows.push(leaseRow(l, '  '));
  }
  for (const j of r.jobs) rows.push(jobRow(j));
  return [header, ...formatTable(rows), `complete: ${r.complete ? 'yes' : 'no'}`];
}
