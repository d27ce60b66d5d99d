import { performance } from 'node:perf_hooks';
import { closeAndWait, countInactive, outstandingLeases, sample } from './bench-close';
import { withCpu } from './bench-cpu';
import { agentId, type BenchTarget, expectStatus, openTask, requestGrant } from './bench-harness';
import { type LoadResult, round, runLoad, waitUntil } from './bench-load';
import { offer, redeem } from './bench-tree';

const KV = 'kv:demo/api-key';
const MAX_FANOUT = 1000;

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
}

/** Offers from the root agent's grants (1000 per grant at most), each bound to one of the sub-agents. */
async function makeOffers(b: BenchTarget, o: { offers: number; concurrency: number }) {
  const root = agentId('root');
  const subs = Array.from({ length: o.concurrency }, (_, i) => agentId(`sub-${i}`));
  await Promise.all([root, ...subs].map((a) => b.http.svid(a)));
  const taskId = await openTask(b, [root], [KV]);
  const parents: string[] = [];
  for (let i = 0; i < Math.ceil(o.offers / MAX_FANOUT); i++)
    parents.push((await requestGrant(b, taskId, root, [KV])).grant_id);
  const queue: Array<{ token: string; parent: string; to: string }> = [];
  const created = await runLoad({
    concurrency: o.concurrency,
    durationMs: 300_000,
    total: o.offers,
    op: async (_w, i) => {
      const parent = parents[Math.floor(i / MAX_FANOUT)]!;
      const to = subs[i % subs.length]!;
      const token = await offer(b, root, parent, to, { budget: 1, mayRedelegate: false });
      queue.push({ token, parent, to });
    },
  });
  if (created.errors) throw new Error(`offers failed: ${created.firstError}`);
  return { taskId, root, subs, parents, queue, created };
}

/**
 * RFC 8693 redemptions by `concurrency` workers, each redeeming the next offer as the sub-agent it is bound
 * to (offers made beforehand from the root agent's grants) until the deadline or the offers run out. Then one parent grant is revoked
 * with its whole subtree (up to 1000 children), timed until the call returns and until Vault confirms.
 */
export async function benchRedemptions(
  b: BenchTarget,
  o: { offers: number; seconds: number; concurrency: number },
): Promise<DelegationResult> {
  const made = await makeOffers(b, o);
  // Warm-up: a redemption by each of 16 sub-agents, not measured.
  await Promise.all(made.queue.splice(0, o.concurrency).map((x) => redeem(b, x.to, x.token)));
  const children: Array<{ token: string; parent: string }> = [];
  const redemptions = await withCpu(b.pids, () =>
    runLoad({
      concurrency: o.concurrency,
      durationMs: o.seconds * 1000,
      total: made.queue.length,
      op: async (_w, i) => {
        const next = made.queue[i]!;
        const granted = await redeem(b, next.to, next.token);
        children.push({ token: granted.access_token, parent: next.parent });
      },
    }),
  );
  const parent = made.parents[0]!;
  const t0 = performance.now();
  const res = await b.http.call('POST', `/v1/grants/${parent}/revoke`, {
    as: made.root,
    json: { reason: 'bench subtree' },
  });
  expectStatus(res, 200, 'revoke subtree');
  const revokeReturnMs = round(performance.now() - t0);
  const revoked = res.body.revoked as string[];
  const under = children.filter((c) => c.parent === parent).map((c) => c.token);
  const inactive = await countInactive(b, sample(under, 50));
  const subtreeRevokedMs = await waitUntil(
    async () => (await outstandingLeases(b, { grantRoot: parent })) === 0,
    { since: t0, timeoutMs: 120_000, stepMs: 100 },
  );
  await closeAndWait(b, made.taskId, 120_000);
  return {
    offers: o.offers,
    offersPerSec: made.created.perSec,
    redemptions,
    subtreeSize: revoked.length,
    revokeReturnMs,
    revokedCount: revoked.length,
    introspectedInactive: `${inactive}/${Math.min(50, under.length)}`,
    subtreeRevokedMs,
  };
}
