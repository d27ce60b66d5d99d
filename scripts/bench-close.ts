import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import {
  agentId,
  type BenchBroker,
  expectStatus,
  ORCHESTRATOR,
  openTask,
  RESOURCE,
  requestGrant,
} from './bench-harness';
import { round, runLoad, waitUntil } from './bench-load';

const KV = 'kv:demo/api-key';

/** Tokens and leases of the task (or of the given grants) that are not revoked yet, straight from PostgreSQL. */
export async function outstandingLeases(
  b: BenchBroker,
  q: { taskId?: string; grantRoot?: string },
): Promise<number> {
  const r = q.grantRoot
    ? await sql<{ n: number }>`select count(*)::int as n from leases where state in ('active', 'retrying')
        and grant_id in (select id from grants where id = ${q.grantRoot} or parent_id = ${q.grantRoot})`.execute(
        b.db.db,
      )
    : await sql<{ n: number }>`select count(*)::int as n from leases
        where task_id = ${q.taskId} and state in ('active', 'retrying')`.execute(b.db.db);
  return r.rows[0]?.n ?? -1;
}

export async function activeGrants(b: BenchBroker, taskId: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from grants
    where task_id = ${taskId} and status = 'active'`.execute(b.db.db);
  return r.rows[0]?.n ?? -1;
}

async function taskStatus(b: BenchBroker, taskId: string): Promise<string> {
  const r = await b.db.db
    .selectFrom('tasks')
    .select('status')
    .where('id', '=', taskId)
    .executeTakeFirstOrThrow();
  return r.status;
}

/** Closes the task and waits (bounded) until it is `closed` with no token or lease left; returns both times. */
export async function closeAndWait(b: BenchBroker, taskId: string, timeoutMs: number) {
  const t0 = performance.now();
  const res = await b.http.call('POST', `/v1/tasks/${taskId}/close`, {
    as: ORCHESTRATOR,
    json: { reason: 'bench' },
  });
  expectStatus(res, 200, 'close task');
  const closeReturnMs = round(performance.now() - t0);
  const allRevokedMs = await waitUntil(
    async () => (await taskStatus(b, taskId)) === 'closed' && (await outstandingLeases(b, { taskId })) === 0,
    { since: t0, timeoutMs, stepMs: 100 },
  );
  return { closeReturnMs, allRevokedMs };
}

/** Introspects `tokens` with concurrency 16 as a resource server; returns how many answered `active: false`. */
export async function countInactive(b: BenchBroker, tokens: string[]): Promise<number> {
  let inactive = 0;
  const result = await runLoad({
    concurrency: 16,
    durationMs: 60_000,
    total: tokens.length,
    op: async (_w, i) => {
      const res = await b.http.call('POST', '/oauth2/introspect', {
        as: RESOURCE,
        form: { token: tokens[i]! },
      });
      expectStatus(res, 200, 'introspect');
      if (res.body.active === false) inactive += 1;
    },
  });
  if (result.errors) throw new Error(`introspection failed: ${result.firstError}`);
  return inactive;
}

export function sample<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

export interface CloseResult {
  grants: number;
  issuePerSec: number;
  closeReturnMs: number;
  /** From the close request until the sampled tokens all introspect inactive and the DB shows no active grant. */
  inactiveVerifiedMs: number | null;
  introspectedInactive: string;
  activeGrantsAfterClose: number;
  /** From the close request until the task is closed and every token and lease of it is revoked. */
  allRevokedMs: number | null;
  receiptComplete: boolean;
  leases: number;
}

/**
 * Phase 3: a task with `grants` active kv grants (16 agents), then close. Times the close call, the
 * moment a sample of tokens introspects inactive (with a DB check that no grant is active), and the
 * moment every Vault token and lease of the task is revoked; confirms with the receipt.
 */
export async function benchClose(
  b: BenchBroker,
  o: { grants: number; sample: number; timeoutMs: number },
): Promise<CloseResult> {
  const agents = Array.from({ length: 16 }, (_, i) => agentId(i));
  const taskId = await openTask(b, agents, [KV]);
  const tokens: string[] = [];
  const issued = await runLoad({
    concurrency: 16,
    durationMs: 120_000,
    total: o.grants,
    op: async (w) => void tokens.push((await requestGrant(b, taskId, agents[w]!, [KV])).access_token),
  });
  if (issued.errors || tokens.length !== o.grants)
    throw new Error(`only ${tokens.length} grants issued: ${issued.firstError}`);
  const picked = sample(tokens, o.sample);
  const t0 = performance.now();
  const res = await b.http.call('POST', `/v1/tasks/${taskId}/close`, {
    as: ORCHESTRATOR,
    json: { reason: 'bench close' },
  });
  expectStatus(res, 200, 'close task');
  const closeReturnMs = round(performance.now() - t0);
  let inactive = 0;
  let activeAfter = -1;
  const inactiveVerifiedMs = await waitUntil(
    async () => {
      inactive = await countInactive(b, picked);
      activeAfter = await activeGrants(b, taskId);
      return inactive === picked.length && activeAfter === 0;
    },
    { since: t0, timeoutMs: o.timeoutMs },
  );
  const allRevokedMs = await waitUntil(
    async () => (await taskStatus(b, taskId)) === 'closed' && (await outstandingLeases(b, { taskId })) === 0,
    { since: t0, timeoutMs: o.timeoutMs, stepMs: 100 },
  );
  const receipt = expectStatus(
    await b.http.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR }),
    200,
    'receipt',
  );
  return {
    grants: tokens.length,
    issuePerSec: issued.perSec,
    closeReturnMs,
    inactiveVerifiedMs,
    introspectedInactive: `${inactive}/${picked.length}`,
    activeGrantsAfterClose: activeAfter,
    allRevokedMs,
    receiptComplete: receipt.body.complete === true,
    leases: receipt.body.summary.leases as number,
  };
}
