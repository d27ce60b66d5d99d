import { performance } from 'node:perf_hooks';
import { createResourceServer, devTrustDomain } from '@grantline/sdk';
import {
  type BenchTarget,
  expectStatus,
  ORCHESTRATOR,
  openTask,
  RESOURCE,
  requestGrant,
} from './bench-harness';
import { percentile } from './bench-load';

const KV = 'kv:demo/api-key';
const RESOURCE_URL = 'https://bench.example/api';
const AGENT = 'spiffe://dev.grantline.local/agent/bench-kit';

export interface KitResult {
  closes: number;
  /** From the moment close returned to the orchestrator until the kit refused the task's token. */
  refusalAfterCloseP50Ms: number;
  refusalAfterCloseP99Ms: number;
  /** From the moment the close request was sent. */
  refusalFromCallP50Ms: number;
  refusalFromCallP99Ms: number;
  /** Refusals decided by the pushed feed (the feed was live): all of them, or the figure is not the feed's. */
  fromFeed: number;
}

/** Resolves when the kit's feed names `jti` as revoked (or rejects after `ms`). */
type Feed = NonNullable<Awaited<ReturnType<typeof createResourceServer>>['feed']>;

function revokedEvent(feed: Feed, jti: string, ms: number) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the feed did not name ${jti} within ${ms} ms`)), ms);
    const on = (item: { jti: string }) => {
      if (item.jti !== jti) return;
      clearTimeout(timer);
      feed.off('revoked', on);
      resolve();
    };
    feed.on('revoked', on);
  });
}

/**
 * The SDK's resource-server kit (sdk/typescript) subscribed to the broker's SSE revocation feed: for each
 * of `closes` tasks, a token the kit accepted, the task closed, and the time until the kit refuses that
 * token (with no introspection: from the feed alone). With several workers the close and the stream are
 * often served by different processes, so this includes the cross-process hop (the hub's poll).
 */
export async function benchKit(b: BenchTarget, o: { closes: number }): Promise<KitResult> {
  const rs = await createResourceServer({
    broker: b.brokerUrl,
    resource: RESOURCE_URL,
    identity: devTrustDomain({ spiffeId: RESOURCE, home: b.home }),
    scopesSupported: [KV],
    feed: { backoff: { baseMs: 20, maxMs: 200 }, staleAfterMs: 30_000 },
  });
  const afterReturn: number[] = [];
  const fromCall: number[] = [];
  let fromFeed = 0;
  try {
    await rs.feed!.ready(10_000);
    for (let i = 0; i < o.closes; i++) {
      const taskId = await openTask(b, [AGENT], [KV], { audiences: [RESOURCE_URL] });
      const g = await requestGrant(b, taskId, AGENT, [KV], RESOURCE_URL);
      await rs.verify(g.access_token);
      const heard = revokedEvent(rs.feed!, g.grant_id, 10_000);
      const t0 = performance.now();
      const res = await b.http.call('POST', `/v1/tasks/${taskId}/close`, {
        as: ORCHESTRATOR,
        json: { reason: 'bench kit' },
      });
      expectStatus(res, 200, 'close');
      const t1 = performance.now();
      await heard;
      if (rs.feed!.isLive()) fromFeed += 1;
      const refused = await rs.verify(g.access_token).then(
        () => false,
        () => true,
      );
      if (!refused) throw new Error('the kit accepted a token of a closed task');
      const at = performance.now();
      afterReturn.push(Math.max(0, at - t1));
      fromCall.push(at - t0);
    }
  } finally {
    await rs.close();
  }
  const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
  return {
    closes: o.closes,
    refusalAfterCloseP50Ms: percentile(sorted(afterReturn), 0.5),
    refusalAfterCloseP99Ms: percentile(sorted(afterReturn), 0.99),
    refusalFromCallP50Ms: percentile(sorted(fromCall), 0.5),
    refusalFromCallP99Ms: percentile(sorted(fromCall), 0.99),
    fromFeed,
  };
}
