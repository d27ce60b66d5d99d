import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import {
  AUDITOR,
  agentId,
  type BenchTarget,
  expectStatus,
  LARGE_LIMITS,
  openTask,
  requestGrant,
} from './bench-harness';
import { median, percentile, round } from './bench-load';
import { offer, redeem } from './bench-tree';

const KV = 'kv:demo/api-key';
const FILLER_PER_TASK = 100;

export interface LineageResult {
  depth: number;
  pathLength: number;
  grantsInDb: number;
  fillerInsertMs: number;
  calls: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

/** A delegation chain built through the API: chain-0 holds a direct grant, each chain-k redeems from chain-(k-1). */
async function buildChain(b: BenchTarget, depth: number): Promise<string> {
  const holders = Array.from({ length: depth + 1 }, (_, k) => agentId(`chain-${k}`));
  const taskId = await openTask(b, [holders[0]!], [KV], { limits: { ...LARGE_LIMITS, max_depth: depth } });
  let grant = await requestGrant(b, taskId, holders[0]!, [KV]);
  for (let k = 1; k <= depth; k++) {
    // Each hop reserves less than its parent has left (the parent spent 1 on its own scope).
    const token = await offer(b, holders[k - 1]!, grant.grant_id, holders[k]!, {
      budget: 100 - k,
      mayRedelegate: true,
      ttl: 280 - k,
    });
    grant = await redeem(b, holders[k]!, token);
  }
  return grant.grant_id;
}

/**
 * Bulk-loads `count` closed-task grants (with one revoked/expired token lease each) straight into the
 * schema: tasks of 100 grants, each a root with 99 children, half revoked and half expired, so the
 * parent index and the leases table look like a broker that has run for a while. Then ANALYZE.
 */
async function loadFiller(b: BenchTarget, count: number): Promise<void> {
  const tasks = Math.ceil(count / FILLER_PER_TASK);
  const db = b.db.db;
  await sql`insert into tasks (id, owner, purpose, status, agents, scopes, ttl_seconds, max_grants, max_active,
      max_depth, max_fanout, budget, grants_issued, active_grants, budget_spent, policy_version,
      created_at, expires_at, closing_at, closed_at, close_reason)
    select md5('bench-task-' || t)::uuid, 'spiffe://dev.grantline.local/orchestrator/filler', 'filler task ' || t,
      'closed', array['spiffe://dev.grantline.local/agent/filler'], array[${KV}], 3600, 1000, 1000, 3, 1000, 1000,
      ${FILLER_PER_TASK}, 0, ${FILLER_PER_TASK}, 'filler', now() - interval '3 hours', now() - interval '2 hours',
      now() - interval '2 hours', now() - interval '2 hours', 'filler'
    from generate_series(1, ${tasks}) t`.execute(db);
  for (const roots of [true, false]) {
    await sql`insert into grants (id, task_id, parent_id, depth, holder, chain, scopes, audiences, ttl_seconds, cost,
        children, status, policy_ids, policy_version, vault_token_accessor, issued_at, expires_at, revoked_at, revoke_reason)
      select md5('bench-grant-' || g)::uuid, md5('bench-task-' || ((g - 1) / ${FILLER_PER_TASK} + 1))::uuid,
        case when roots then null else md5('bench-grant-' || ((g - 1) / ${FILLER_PER_TASK} * ${FILLER_PER_TASK} + 1))::uuid end,
        case when roots then 0 else 1 end, 'spiffe://dev.grantline.local/agent/filler-' || (g % 50),
        array['spiffe://dev.grantline.local/agent/filler-' || (g % 50)], array[${KV}], array['filler-api'], 300, 1,
        case when roots then ${FILLER_PER_TASK - 1} else 0 end,
        case when g % 2 = 0 then 'revoked' else 'expired' end, array['agent-request-grant'], 'filler',
        'filler-accessor-' || g, now() - interval '3 hours', now() - interval '2 hours',
        case when g % 2 = 0 then now() - interval '150 minutes' end, case when g % 2 = 0 then 'filler' end
      from generate_series(1, ${count}) g, (select ${roots}::boolean as roots) r
      where ((g - 1) % ${FILLER_PER_TASK} = 0) = roots`.execute(db);
  }
  await sql`insert into leases (task_id, grant_id, kind, vault_token_accessor, state, created_at, expires_at, revoked_at)
    select task_id, id, 'grant_token', vault_token_accessor, case status when 'revoked' then 'revoked' else 'expired' end,
      issued_at, expires_at, coalesce(revoked_at, expires_at)
    from grants where policy_version = 'filler'`.execute(db);
  await sql`analyze`.execute(db);
}

/**
 * Phase 4b: the lineage of a grant at depth `depth`, read by an auditor `calls` times (after 3 warm-up
 * calls) in a database holding at least `filler` more grants.
 */
export async function benchLineage(
  b: BenchTarget,
  o: { depth: number; filler: number; calls: number },
): Promise<LineageResult> {
  await b.http.svid(AUDITOR);
  const leaf = await buildChain(b, o.depth);
  const f0 = performance.now();
  await loadFiller(b, o.filler);
  const fillerInsertMs = round(performance.now() - f0);
  const count = await sql<{ n: number }>`select count(*)::int as n from grants`.execute(b.db.db);
  const get = () => b.http.call('GET', `/v1/grants/${leaf}/lineage`, { as: AUDITOR });
  let pathLength = 0;
  for (let i = 0; i < 3; i++)
    pathLength = (expectStatus(await get(), 200, 'lineage').body.path as unknown[]).length;
  const times: number[] = [];
  for (let i = 0; i < o.calls; i++) {
    const t0 = performance.now();
    expectStatus(await get(), 200, 'lineage');
    times.push(performance.now() - t0);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    depth: o.depth,
    pathLength,
    grantsInDb: count.rows[0]?.n ?? 0,
    fillerInsertMs,
    calls: times.length,
    medianMs: median(times),
    p90Ms: percentile(sorted, 0.9),
    minMs: round(sorted[0] ?? 0, 2),
    maxMs: round(sorted.at(-1) ?? 0, 2),
  };
}
