import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { vaultPoliciesFor } from '../server/config/scope-catalogue';
import { CHILD_TOKEN_POLICY } from '../server/dev/vault-setup';
import { closeAndWait } from './bench-close';
import { agentId, type BenchBroker, openTask, requestGrant } from './bench-harness';
import { type LoadResult, round, runLoad } from './bench-load';
import { type SessionProfile, sampleSessions } from './bench-sessions';

export interface LoadOptions {
  durationMs: number;
  concurrency: number;
  /** Bound on waiting for the phase's tokens and leases to be revoked before the next phase. */
  cleanupTimeoutMs: number;
}

export interface BrokerGrantsResult extends LoadResult {
  /** Where the time goes: audit events written per grant, and the broker's PostgreSQL sessions sampled every 100 ms. */
  diagnostics: SessionProfile & { auditEventsPerGrant: number };
  /** Closing the phase's task afterwards: close call, and until every token and lease was revoked. */
  cleanup: { grants: number; closeReturnMs: number; allRevokedMs: number | null };
}

/**
 * Phase 1: `concurrency` agents listed on one task each loop `POST /v1/tasks/:id/grants` for one scope
 * until the deadline. Grants pile up (max_active is large); the task is closed afterwards and the
 * revocation is awaited so the next phase starts on a quiet broker.
 */
export async function benchBrokerGrants(
  b: BenchBroker,
  scope: string,
  o: LoadOptions,
): Promise<BrokerGrantsResult> {
  const agents = Array.from({ length: o.concurrency }, (_, i) => agentId(i));
  await Promise.all(agents.map((a) => b.http.svid(a)));
  const taskId = await openTask(b, agents, [scope]);
  // Warm-up (JIT, pools, keep-alive sockets): one grant per agent, not measured.
  await Promise.all(agents.map((a) => requestGrant(b, taskId, a, [scope])));
  const sampler = sampleSessions(b);
  const result = await runLoad({
    concurrency: o.concurrency,
    durationMs: o.durationMs,
    op: async (w) => void (await requestGrant(b, taskId, agents[w]!, [scope])),
  });
  const sessions = await sampler.stop();
  const grants = result.ops + agents.length;
  const events = await sql<{
    n: number;
  }>`select count(*)::int as n from audit_events where task_id = ${taskId}`.execute(b.db.db);
  const diagnostics = { auditEventsPerGrant: round((events.rows[0]?.n ?? 0) / grants, 2), ...sessions };
  const closed = await closeAndWait(b, taskId, o.cleanupTimeoutMs);
  return { ...result, diagnostics, cleanup: { grants, ...closed } };
}

export interface DirectVaultResult extends LoadResult {
  /** Revoking the parent token (Vault cascades to every child and lease). */
  cleanupMs: number;
}

/**
 * Phase 2: what a grant costs in Vault alone, through the broker's own adapter and dev Vault: a child
 * token of a task-like orphan token carrying the scope's policies, then the scope's secret read with it
 * (KV read, or dynamic PostgreSQL credentials). The broker does these two calls plus a custody write,
 * its PostgreSQL transactions, policy, audit and JWT work.
 */
export async function benchDirectVault(
  b: BenchBroker,
  scope: string,
  o: LoadOptions,
): Promise<DirectVaultResult> {
  const vault = b.broker.vault.vault;
  const spec = b.broker.catalogue.get(scope);
  if (!spec || spec.vault.kind === 'token') throw new Error(`${scope} is not a kv or dynamic scope`);
  const { kind, path } = spec.vault;
  const policies = [...vaultPoliciesFor(b.broker.catalogue, [scope]), CHILD_TOKEN_POLICY];
  const parent = await vault.createOrphanToken({ policies, ttlSeconds: 1800, displayName: 'bench-direct' });
  const read = (token: string) =>
    kind === 'dynamic' ? vault.readDynamicSecret(token, path) : vault.readKv(token, path);
  const op = async () => {
    const child = await vault.createChildToken(parent.clientToken, {
      policies,
      ttlSeconds: 1800,
      explicitMaxTtlSeconds: 1800,
      displayName: 'bench-direct-grant',
    });
    await read(child.clientToken);
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, op));
    const result = await runLoad({ concurrency: o.concurrency, durationMs: o.durationMs, op });
    const t0 = performance.now();
    await vault.revokeTokenByAccessor(parent.accessor);
    return { ...result, cleanupMs: round(performance.now() - t0) };
  } catch (err) {
    await vault.revokeTokenByAccessor(parent.accessor).catch(() => undefined);
    throw err;
  }
}
