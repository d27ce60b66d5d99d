import { performance } from 'node:perf_hooks';
import { vaultPoliciesFor } from '../server/config/scope-catalogue';
import { CHILD_TOKEN_POLICY } from '../server/vault/child-token-policy';
import { closeAndWait } from './bench-close';
import { withCpu } from './bench-cpu';
import { agentId, type BenchTarget, LARGE_LIMITS, openTask, requestGrant } from './bench-harness';
import { type LoadResult, round, runLoad } from './bench-load';

export interface GrantsPhase {
  scope: string;
  seconds: number;
  concurrency: number;
  /** The task's max_depth: 0 means no grant may delegate, so none is kept in custody (one Vault write less). */
  maxDepth?: number;
}

export interface BrokerGrantsResult extends LoadResult {
  /** Closing the phase's task afterwards: the close call, and until every token and lease was revoked. */
  cleanup: { grants: number; closeReturnMs: number; allRevokedMs: number | null };
}

/**
 * `concurrency` agents listed on one task each loop `POST /v1/tasks/:id/grants` for one scope until the
 * deadline (as agents making tool calls do). The task is closed afterwards and its revocation awaited,
 * so the next phase starts on a quiet broker.
 */
export async function benchBrokerGrants(b: BenchTarget, o: GrantsPhase): Promise<BrokerGrantsResult> {
  const agents = Array.from({ length: o.concurrency }, (_, i) => agentId(i));
  await Promise.all(agents.map((a) => b.http.svid(a)));
  const limits = { ...LARGE_LIMITS, max_depth: o.maxDepth ?? LARGE_LIMITS.max_depth };
  const taskId = await openTask(b, agents, [o.scope], { limits });
  // Warm-up (JIT, pools, keep-alive sockets on every worker): a few grants per agent, not measured.
  for (let i = 0; i < 3; i++) await Promise.all(agents.map((a) => requestGrant(b, taskId, a, [o.scope])));
  const result = await withCpu(b.pids, () =>
    runLoad({
      concurrency: o.concurrency,
      durationMs: o.seconds * 1000,
      op: async (w) => void (await requestGrant(b, taskId, agents[w]!, [o.scope])),
    }),
  );
  const closed = await closeAndWait(b, taskId, 120_000);
  return { ...result, cleanup: { grants: result.ops + agents.length * 3, ...closed } };
}

export interface DirectVaultResult extends LoadResult {
  /** Revoking the parent token (Vault cascades to every child and lease). */
  cleanupMs: number;
}

/** The parent of the direct run's tokens, as the broker makes a task's token: an orphan with the scope's policies. */
async function parentToken(b: BenchTarget, scope: string, underGrant: boolean) {
  const policies = [...vaultPoliciesFor(b.catalogue, [scope]), CHILD_TOKEN_POLICY];
  const task = await b.vault.createOrphanToken({ policies, ttlSeconds: 7200, displayName: 'bench-direct' });
  const parent = underGrant
    ? await b.vault.createChildToken(task.clientToken, {
        policies,
        ttlSeconds: 3600,
        displayName: 'bench-parent',
      })
    : task;
  return { task, parent, policies };
}

/**
 * What a grant needs from Vault, done directly from the load process through the broker's own adapter:
 * a child token of a task-like orphan carrying the scope's policies, then the scope's secret read with it
 * (KV read, or dynamic PostgreSQL credentials). `underGrant` hangs the tokens one level deeper, under
 * a grant-like token, as a redemption does.
 */
export async function benchDirectVault(
  b: BenchTarget,
  o: { scope: string; seconds: number; concurrency: number; underGrant?: boolean },
): Promise<DirectVaultResult> {
  const spec = b.catalogue.get(o.scope);
  if (!spec || spec.vault.kind === 'token') throw new Error(`${o.scope} is not a kv or dynamic scope`);
  const { kind, path } = spec.vault;
  const { task, parent, policies } = await parentToken(b, o.scope, o.underGrant ?? false);
  const read = (token: string) =>
    kind === 'dynamic' ? b.vault.readDynamicSecret(token, path) : b.vault.readKv(token, path);
  const op = async () => {
    const child = await b.vault.createChildToken(parent.clientToken, {
      policies,
      ttlSeconds: 300,
      explicitMaxTtlSeconds: 300,
      displayName: 'bench-direct-grant',
    });
    await read(child.clientToken);
  };
  try {
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: o.concurrency }, op));
    const result = await withCpu(b.pids, () =>
      runLoad({ concurrency: o.concurrency, durationMs: o.seconds * 1000, op }),
    );
    const t0 = performance.now();
    await b.vault.revokeTokenByAccessor(task.accessor);
    return { ...result, cleanupMs: round(performance.now() - t0) };
  } catch (err) {
    await b.vault.revokeTokenByAccessor(task.accessor).catch(() => undefined);
    throw err;
  }
}
