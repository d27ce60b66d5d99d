import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { countInactive, outstandingLeases, sample } from './bench-close';
import {
  agentId,
  type BenchBroker,
  expectStatus,
  JWT_TYPE,
  openTask,
  requestGrant,
  TOKEN_EXCHANGE,
} from './bench-harness';
import { type LoadResult, round, runLoad, waitUntil } from './bench-load';

const KV = 'kv:demo/api-key';

export interface Hop {
  grant_id: string;
  access_token: string;
}

/** `from` (holder of `parentId`) offers a kv delegation to `to`; returns the delegation token. */
export async function offer(
  b: BenchBroker,
  from: string,
  parentId: string,
  to: string,
  budget: number,
  mayRedelegate: boolean,
) {
  const res = await b.http.call('POST', `/v1/grants/${parentId}/delegations`, {
    as: from,
    json: { to, scopes: [KV], ttl: 1800, budget, may_redelegate: mayRedelegate },
  });
  return expectStatus(res, 201, 'offer delegation').body.delegation_token as string;
}

/** RFC 8693 token exchange by `as`, with its own JWT-SVID as the actor token. */
export async function redeem(b: BenchBroker, as: string, delegationToken: string): Promise<Hop> {
  const res = await b.http.call('POST', '/oauth2/token', {
    as,
    form: {
      grant_type: TOKEN_EXCHANGE,
      subject_token: delegationToken,
      subject_token_type: JWT_TYPE,
      actor_token: await b.http.svid(as),
      actor_token_type: JWT_TYPE,
    },
  });
  return expectStatus(res, 200, 'redeem delegation').body as Hop;
}

async function pendingJobs(b: BenchBroker, taskId: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from revocation_jobs
    where task_id = ${taskId} and status = 'pending'`.execute(b.db.db);
  return r.rows[0]?.n ?? -1;
}

export interface DelegationResult {
  offers: number;
  offersPerSec: number;
  redemptions: LoadResult;
  subtreeSize: number;
  /** From `POST /v1/grants/:id/revoke` until it returned (the whole subtree inactive in one transaction). */
  revokeReturnMs: number;
  revokedCount: number;
  introspectedInactive: string;
  /** From the revoke request until every Vault token of the subtree is confirmed revoked. */
  subtreeRevokedMs: number | null;
  /** Until the revocation job finished (tokens confirmed, custody copies discarded, audit written). */
  jobDoneMs: number | null;
}

/**
 * Phase 4a: agent root → (delegation) → agent mid, whose grant fans out to `fanout` offers bound to 16
 * sub-agents. The sub-agents redeem them with concurrency 16 (redemptions/s). Then mid's grant is
 * revoked: a subtree of 1 + `fanout` grants, timed until the call returns and until Vault confirms.
 */
export async function benchDelegation(
  b: BenchBroker,
  o: { fanout: number; concurrency: number; timeoutMs: number },
): Promise<DelegationResult> {
  const root = agentId('root');
  const mid = agentId('mid');
  const subs = Array.from({ length: o.concurrency }, (_, i) => agentId(`sub-${i}`));
  await Promise.all([root, mid, ...subs].map((a) => b.http.svid(a)));
  const taskId = await openTask(b, [root], [KV]);
  const rootGrant = await requestGrant(b, taskId, root, [KV]);
  const midGrant = await redeem(
    b,
    mid,
    await offer(b, root, rootGrant.grant_id, mid, o.fanout * 2 + 10, true),
  );

  const tokens: string[] = [];
  const created = await runLoad({
    concurrency: o.concurrency,
    durationMs: 120_000,
    total: o.fanout,
    op: async (_w, i) => {
      tokens[i] = await offer(b, mid, midGrant.grant_id, subs[i % subs.length]!, 1, false);
    },
  });
  if (created.errors) throw new Error(`offers failed: ${created.firstError}`);

  const children: string[] = [];
  const redemptions = await runLoad({
    concurrency: o.concurrency,
    durationMs: 120_000,
    total: o.fanout,
    op: async (_w, i) =>
      void children.push((await redeem(b, subs[i % subs.length]!, tokens[i]!)).access_token),
  });
  if (redemptions.errors) throw new Error(`redemptions failed: ${redemptions.firstError}`);

  const t0 = performance.now();
  const res = await b.http.call('POST', `/v1/grants/${midGrant.grant_id}/revoke`, {
    as: mid,
    json: { reason: 'bench subtree' },
  });
  expectStatus(res, 200, 'revoke subtree');
  const revokeReturnMs = round(performance.now() - t0);
  const inactive = await countInactive(b, sample([midGrant.access_token, ...children], 50));
  const subtreeRevokedMs = await waitUntil(
    async () => (await outstandingLeases(b, { grantRoot: midGrant.grant_id })) === 0,
    {
      since: t0,
      timeoutMs: o.timeoutMs,
      stepMs: 100,
    },
  );
  const jobDoneMs = await waitUntil(async () => (await pendingJobs(b, taskId)) === 0, {
    since: t0,
    timeoutMs: o.timeoutMs,
    stepMs: 100,
  });
  return {
    offers: tokens.length,
    offersPerSec: created.perSec,
    redemptions,
    subtreeSize: 1 + children.length,
    revokeReturnMs,
    revokedCount: (res.body.revoked as string[]).length,
    introspectedInactive: `${inactive}/${Math.min(50, children.length + 1)}`,
    subtreeRevokedMs,
    jobDoneMs,
  };
}
