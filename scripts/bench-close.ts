import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { type BenchTarget, expectStatus, ORCHESTRATOR, RESOURCE } from './bench-harness';
import { round, runLoad, waitUntil } from './bench-load';
import { buildForest } from './bench-tree';

/** Tokens and leases of the task (or under one grant) not revoked yet, straight from PostgreSQL. */
export async function outstandingLeases(
  b: BenchTarget,
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

export async function activeGrants(b: BenchTarget, taskId: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from grants
    where task_id = ${taskId} and status in ('active', 'pending')`.execute(b.db.db);
  return r.rows[0]?.n ?? -1;
}

async function taskStatus(b: BenchTarget, taskId: string): Promise<string> {
  const r = await b.db.db
    .selectFrom('tasks')
    .select('status')
    .where('id', '=', taskId)
    .executeTakeFirstOrThrow();
  return r.status;
}

async function close(b: BenchTarget, taskId: string): Promise<number> {
  const t0 = performance.now();
  const res = await b.http.call('POST', `/v1/tasks/${taskId}/close`, {
    as: ORCHESTRATOR,
    json: { reason: 'bench' },
  });
  expectStatus(res, 200, 'close task');
  return t0;
}

/** Closes the task and waits (bounded) until every token and lease of it is revoked; returns both times. */
export async function closeAndWait(b: BenchTarget, taskId: string, timeoutMs: number) {
  const t0 = await close(b, taskId);
  const closeReturnMs = round(performance.now() - t0);
  const allRevokedMs = await waitUntil(
    async () => (await taskStatus(b, taskId)) === 'closed' && (await outstandingLeases(b, { taskId })) === 0,
    { since: t0, timeoutMs, stepMs: 100 },
  );
  return { closeReturnMs, allRevokedMs };
}

/** Introspects `tokens` with concurrency 16 as a resource server; returns how many answered `active: false`. */
export async function countInactive(b: BenchTarget, tokens: string[]): Promise<number> {
  let inactive = 0;
  const result = await runLoad({
    concurrency: 16,
    durationMs: 300_000,
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
  depth: number;
  /** Grants (direct and delegated) issued per second while the tree was built. */
  buildPerSec: number;
  buildSeconds: number;
  returnedMs: number;
  /** Live grants of the task in PostgreSQL right after close returned (0: introspection is inactive for all). */
  activeAtReturn: number;
  /** Of a sample introspected right after close returned, how many answered inactive. */
  sampleInactiveAtReturn: string;
  /** Until every Vault token and lease of the task was revoked and verified. */
  allRevokedMs: number | null;
  /** Until the task was `closed` (custody copies discarded, the closing audit written). */
  taskClosedMs: number | null;
  /** Every token of the task introspected once it was all revoked: how many answered inactive. */
  introspectedInactive: string;
  leases: number;
  receiptComplete: boolean;
}

/**
 * Scale: a task with `grants` active kv grants in delegation trees `depth + 1` levels deep (every grant
 * above the last level delegates to two sub-agents), then close. Times the close call, checks that no grant
 * is live when it returns, and times until every Vault token and lease is revoked and verified.
 */
export async function benchClose(
  b: BenchTarget,
  o: { grants: number; depth: number; concurrency: number },
): Promise<CloseResult> {
  const built = await buildForest(b, o);
  const t0 = await close(b, built.taskId);
  const returnedMs = round(performance.now() - t0);
  const activeAtReturn = await activeGrants(b, built.taskId);
  const picked = sample(built.tokens, 100);
  const sampleInactive = await countInactive(b, picked);
  const taskId = built.taskId;
  const allRevokedMs = await waitUntil(async () => (await outstandingLeases(b, { taskId })) === 0, {
    since: t0,
    timeoutMs: 300_000,
    stepMs: 100,
  });
  const taskClosedMs = await waitUntil(async () => (await taskStatus(b, taskId)) === 'closed', {
    since: t0,
    timeoutMs: 300_000,
    stepMs: 100,
  });
  const inactive = await countInactive(b, built.tokens);
  const receipt = expectStatus(
    await b.http.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR }),
    200,
    'receipt',
  );
  return {
    grants: built.tokens.length,
    depth: o.depth,
    buildPerSec: round(built.tokens.length / built.seconds),
    buildSeconds: round(built.seconds),
    returnedMs,
    activeAtReturn,
    sampleInactiveAtReturn: `${sampleInactive}/${picked.length}`,
    allRevokedMs,
    taskClosedMs,
    introspectedInactive: `${inactive}/${built.tokens.length}`,
    leases: receipt.body.summary.leases as number,
    receiptComplete: receipt.body.complete === true,
  };
}
