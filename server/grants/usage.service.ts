import { randomUUID } from 'node:crypto';
import type { Access, Authorized } from '../access/access';
import type { DomainUnitOfWork, DomainWork } from '../access/unit';
import type { AuditEventInput } from '../audit/audit.types';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { Db, GrantRow } from '../db/database';
import type { Principal } from '../identity';
import type { Clock } from '../shared/clock';
import { Conflict, GrantlineError, InvalidRequest } from '../shared/errors';
import { loadTask, taskFacts } from '../tasks';
import { type ActionPool, actionPoolOf, type Charged, chargeCalls } from './actions';
import { GrantNotFound } from './grant.errors';
import { findGrant, liveRootGrants } from './grant.repository';
import { revokeSubtree } from './grant-revocation';
import { findUsageReport, insertUsageReport } from './usage.repository';
import type { UsageReportInput } from './usage.schema';

export interface UsageDeps {
  db: Db;
  uow: DomainUnitOfWork;
  access: Access;
  catalogue: ScopeCatalogue;
  clock: Clock;
  onRevocationQueued: () => Promise<void> | void;
}

/** Reported call times may be this far off the broker's clock (or before the grant, by clock skew). */
const SKEW_MS = 120_000;
const SPENT_REASON = 'its share of actions is spent (max_actions)';

/** What one call with this grant's token counts: the dearest action cost among its scopes. */
export function grantActionCost(catalogue: ScopeCatalogue, scopes: string[]): number {
  return Math.max(1, ...scopes.map((s) => catalogue.get(s)?.action_cost ?? 1)) || 1;
}

function checkCallTimes(calls: UsageReportInput['calls'], grant: GrantRow, now: Date): void {
  const earliest = grant.issued_at.getTime() - SKEW_MS;
  const latest = now.getTime() + SKEW_MS;
  const fields = calls
    .map((c, i) => ({ i, at: Date.parse(c.at) }))
    .filter(({ at }) => at < earliest || at > latest)
    .map(({ i }) => ({ field: `calls.${i}.at`, problem: 'outside the life of the grant' }));
  if (fields.length)
    throw new InvalidRequest(`invalid body: ${fields.map((f) => `${f.field} (${f.problem})`).join('; ')}`, {
      fields,
    });
}

function poolView(pool: ActionPool) {
  return {
    pool: pool.kind,
    ...(pool.kind === 'grant' ? { pool_grant_id: pool.grantId } : {}),
    limit: pool.limit,
    spent: pool.spent,
    remaining: pool.limit === null ? null : Math.max(0, pool.limit - pool.spent),
  };
}

interface Report {
  grant: GrantRow;
  reportId: string;
  actionCost: number;
  calls: UsageReportInput['calls'];
  principal: Principal;
  allowed: Authorized;
}

function usageEvent(r: Report, c: Charged): AuditEventInput {
  const tools = [...new Set(r.calls.flatMap((x) => (x.tool ? [x.tool] : [])))].slice(0, 20);
  return {
    type: 'grant.usage',
    taskId: r.grant.task_id,
    grantId: r.grant.id,
    principal: r.principal.spiffeId,
    payload: {
      report_id: r.reportId,
      calls: r.calls.length,
      counted: c.counted,
      charged: c.charged,
      action_cost: r.actionCost,
      tools,
      first_call_at: r.calls[0]!.at,
      last_call_at: r.calls.at(-1)!.at,
      ...poolView(c.pool),
      exhausted: c.exhausted,
    },
  };
}

/** The pool is spent: every grant drawing on it stops (the task's pool: every tree of the task). */
async function revokeSpent(w: DomainWork, taskId: string, pool: ActionPool): Promise<string[]> {
  const roots = pool.kind === 'grant' ? [pool.grantId] : await liveRootGrants(w.tx, taskId);
  const revoked: string[] = [];
  for (const grantId of roots)
    for (const g of await revokeSubtree(w, { taskId, grantId, reason: SPENT_REASON, principal: null }))
      revoked.push(g.id);
  return revoked;
}

/** One report, in one unit holding the task row: a retried report id counts once. */
async function record(w: DomainWork, r: Report) {
  const previous = await findUsageReport(w.tx, r.reportId);
  if (previous && previous.grant_id !== r.grant.id)
    throw new Conflict('this report_id was already used for another grant');
  if (previous) {
    w.audit(r.allowed.event);
    const pool = await actionPoolOf(w.tx, r.grant);
    return { counted: previous.counted, charged: previous.charged, pool, revoked: [], duplicate: true };
  }
  const grant = (await findGrant(w.tx, r.grant.id))!;
  if (grant.status !== 'active' || grant.expires_at <= w.now)
    throw new Conflict(`the grant is ${grant.status === 'active' ? 'expired' : grant.status}`, {
      grant_status: grant.status === 'active' ? 'expired' : grant.status,
    });
  const charged = await chargeCalls(w.tx, { grant, charges: r.calls.map((c) => c.cost * r.actionCost) });
  await insertUsageReport(w.tx, {
    id: r.reportId,
    grant_id: grant.id,
    task_id: grant.task_id,
    reported_by: r.principal.spiffeId,
    calls: r.calls.length,
    counted: charged.counted,
    charged: charged.charged,
  });
  w.audit(r.allowed.event, usageEvent(r, charged));
  const revoked = charged.exhausted ? await revokeSpent(w, grant.task_id, charged.pool) : [];
  return { ...charged, revoked, duplicate: false };
}

/**
 * `POST /v1/grants/:id/usage`: a resource server reports the calls it served with a grant's token. They
 * count against the pool the grant draws on (its share, an ancestor's, or the task's `max_actions`); the
 * report that spends the pool revokes every grant drawing on it, at once and through the revocation feed.
 */
export async function reportUsage(
  deps: UsageDeps,
  principal: Principal,
  grantId: string,
  input: UsageReportInput,
) {
  const grant = await findGrant(deps.db, grantId);
  if (!grant) throw new GrantNotFound();
  const task = (await loadTask(deps.db, grant.task_id))!;
  const allowed = await deps.access.authorize(
    principal,
    { action: 'ReportUsage', task: taskFacts(task), context: { holder: grant.holder } },
    { taskId: task.id, grantId },
    { deniedAs: () => new GrantNotFound() },
  );
  checkCallTimes(input.calls, grant, deps.clock.now());
  const report: Report = {
    grant,
    reportId: input.report_id ?? randomUUID(),
    actionCost: grantActionCost(deps.catalogue, grant.scopes),
    calls: input.calls,
    principal,
    allowed,
  };
  const done = await deps.uow
    .run({ task: task.id }, (w) => record(w, report))
    .catch(async (err) => {
      if (err instanceof GrantlineError && err.status < 500)
        await deps.access.recordRefusal(allowed, {
          type: 'usage.refused',
          taskId: task.id,
          grantId,
          principal: principal.spiffeId,
          payload: { report_id: report.reportId, error: err.code, reason: err.message },
        });
      throw err;
    });
  if (done.revoked.length) await deps.onRevocationQueued();
  return {
    grant_id: grantId,
    report_id: report.reportId,
    calls: input.calls.length,
    counted: done.counted,
    charged: done.charged,
    action_cost: report.actionCost,
    actions: poolView(done.pool),
    revoked: done.revoked,
    duplicate: done.duplicate,
  };
}
