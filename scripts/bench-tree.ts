import { performance } from 'node:perf_hooks';
import {
  agentId,
  type BenchTarget,
  expectStatus,
  type Granted,
  JWT_TYPE,
  LARGE_LIMITS,
  openTask,
  TOKEN_EXCHANGE,
} from './bench-harness';

const KV = 'kv:demo/api-key';
const BRANCHING = 2;

/** `from` (holder of `parentId`) offers a kv delegation to `to`; returns the delegation token. */
export async function offer(
  b: BenchTarget,
  from: string,
  parentId: string,
  to: string,
  o: { budget: number; mayRedelegate: boolean; ttl?: number },
): Promise<string> {
  const res = await b.http.call('POST', `/v1/grants/${parentId}/delegations`, {
    as: from,
    json: { to, scopes: [KV], ttl: o.ttl ?? 1500, budget: o.budget, may_redelegate: o.mayRedelegate },
  });
  return expectStatus(res, 201, 'offer delegation').body.delegation_token as string;
}

/** RFC 8693 token exchange by `as`, with its own JWT-SVID as the actor token. */
export async function redeem(b: BenchTarget, as: string, delegationToken: string): Promise<Granted> {
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
  return expectStatus(res, 200, 'redeem delegation').body as Granted;
}

/** Grants in a full subtree whose root sits at `depth` in a tree of `maxDepth` (branching 2). */
const subtreeSize = (depth: number, maxDepth: number) => 2 ** (maxDepth - depth + 1) - 1;

interface Forest {
  b: BenchTarget;
  maxDepth: number;
  remaining: number;
  tokens: string[];
}

/** Below `grant` (held by `holder` at `depth`): two delegated children each, depth first, while grants remain. */
async function grow(f: Forest, grant: Granted, holder: string, depth: number, w: number): Promise<void> {
  if (depth >= f.maxDepth) return;
  for (let c = 0; c < BRANCHING && f.remaining > 0; c++) {
    f.remaining -= 1;
    const to = agentId(`d${depth + 1}-${w}`);
    const token = await offer(f.b, holder, grant.grant_id, to, {
      budget: subtreeSize(depth + 1, f.maxDepth),
      mayRedelegate: depth + 1 < f.maxDepth,
    });
    const child = await redeem(f.b, to, token);
    f.tokens.push(child.access_token);
    await grow(f, child, to, depth + 1, w);
  }
}

/**
 * A task with exactly `grants` kv grants: direct grants of 16 root agents, each the root of a delegation
 * tree `depth + 1` levels deep (branching 2, the last tree cut short), built by `concurrency` workers.
 */
export async function buildForest(
  b: BenchTarget,
  o: { grants: number; depth: number; concurrency: number },
): Promise<{ taskId: string; tokens: string[]; seconds: number }> {
  const roots = Array.from({ length: o.concurrency }, (_, w) => agentId(`root-${w}`));
  const holders = Array.from({ length: o.depth }, (_, d) =>
    Array.from({ length: o.concurrency }, (_, w) => agentId(`d${d + 1}-${w}`)),
  ).flat();
  await Promise.all([...roots, ...holders].map((a) => b.http.svid(a)));
  const taskId = await openTask(b, roots, [KV], { limits: { ...LARGE_LIMITS, max_depth: o.depth } });
  const forest: Forest = { b, maxDepth: o.depth, remaining: o.grants, tokens: [] };
  const t0 = performance.now();
  const worker = async (w: number) => {
    while (forest.remaining > 0) {
      forest.remaining -= 1;
      const res = await b.http.call('POST', `/v1/tasks/${taskId}/grants`, {
        as: roots[w]!,
        json: { scopes: [KV], audience: 'bench-api', ttl: '30m', context: { tool: 'bench' } },
      });
      const root = expectStatus(res, 201, 'root grant').body as Granted;
      forest.tokens.push(root.access_token);
      await grow(forest, root, roots[w]!, 0, w);
    }
  };
  await Promise.all(roots.map((_, w) => worker(w)));
  return { taskId, tokens: forest.tokens, seconds: (performance.now() - t0) / 1000 };
}
