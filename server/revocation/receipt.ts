import { eventLeaves } from '../audit';
import type { DbOrTx, GrantStatus, LeaseRow, TaskRow } from '../db/database';
import { jobsOfTask, leasesOfTask } from './revocation.repository';

/** What the receipt shows of each grant (the grants domain provides it). */
export interface GrantSummary {
  id: string;
  parent_id: string | null;
  holder: string;
  scopes: string[];
  status: GrantStatus;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

function leaseView(l: LeaseRow) {
  return {
    kind: l.kind,
    scope: l.scope,
    lease_id: l.vault_lease_id,
    token_accessor: l.vault_token_accessor,
    state: l.state,
    attempts: l.attempts,
    last_error: l.last_error,
    created_at: l.created_at.toISOString(),
    expires_at: l.expires_at?.toISOString() ?? null,
    revoked_at: l.revoked_at?.toISOString() ?? null,
    /** When the broker proved the handle dead (for a database login: no login, no session). */
    verified_at: l.verified_at?.toISOString() ?? null,
    ...(l.db_role ? { database_login: l.db_role } : {}),
  };
}

/**
 * The revocation receipt: every grant, Vault token and lease of the task with its state. `complete` is
 * true once the task is closed (or expired) and every lease is confirmed revoked or expired.
 */
export async function buildReceipt(db: DbOrTx, task: TaskRow, grants: GrantSummary[]) {
  // Three independent reads on three pooled connections (a task of 10,000 grants returns tens of
  // thousands of rows). The audit trail: the leaf index of each event the receipt rests on, so each can be
  // proved with an inclusion proof.
  const [leases, jobs, trail] = await Promise.all([
    leasesOfTask(db, task.id),
    jobsOfTask(db, task.id),
    eventLeaves(db, { taskId: task.id }),
  ]);
  const byGrant = new Map<string, LeaseRow[]>();
  for (const l of leases) {
    if (!l.grant_id) continue;
    const list = byGrant.get(l.grant_id);
    if (list) list.push(l);
    else byGrant.set(l.grant_id, [l]);
  }
  const states: Record<string, number> = {};
  for (const l of leases) states[l.state] = (states[l.state] ?? 0) + 1;
  const taskToken = leases.find((l) => l.kind === 'task_token');
  return {
    task_id: task.id,
    status: task.status,
    close_reason: task.close_reason,
    closing_at: task.closing_at?.toISOString() ?? null,
    closed_at: task.closed_at?.toISOString() ?? null,
    // Complete: the task is closed and every handle is proved gone. An irrevocable handle keeps it false.
    complete:
      (task.status === 'closed' || task.status === 'expired') &&
      leases.every((l) => (l.state === 'revoked' || l.state === 'expired') && l.verified_at !== null),
    summary: {
      grants: grants.length,
      leases: leases.length,
      lease_states: states,
      pending_jobs: jobs.filter((j) => j.status === 'pending').length,
    },
    task_token: taskToken ? leaseView(taskToken) : null,
    audit_events: trail.get(null) ?? [],
    grants: grants.map((g) => ({
      grant_id: g.id,
      parent_id: g.parent_id,
      holder: g.holder,
      scopes: g.scopes,
      status: g.status,
      issued_at: g.issued_at.toISOString(),
      expires_at: g.expires_at.toISOString(),
      revoked_at: g.revoked_at?.toISOString() ?? null,
      revoke_reason: g.revoke_reason,
      leases: (byGrant.get(g.id) ?? []).map(leaseView),
      audit_events: trail.get(g.id) ?? [],
    })),
    jobs: jobs.map((j) => ({
      id: j.id,
      kind: j.kind,
      status: j.status,
      attempts: j.attempts,
      last_error: j.last_error,
      due_at: j.due_at.toISOString(),
    })),
  };
}
export type Receipt = Awaited<ReturnType<typeof buildReceipt>>;
