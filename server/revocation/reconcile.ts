import type { DomainUnitOfWork } from '../access/unit';
import type { Db } from '../db/database';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { VaultAdapter } from '../vault';
import type { DatabaseTargets } from './database-lockout';
import { describe } from './lease-revoker';
import { findLostLogins } from './lost-logins';
import { liveHandles, settleReconciled } from './revocation.repository';

/** Something alive without a live grant or task behind it. */
export interface Orphan {
  kind: 'token' | 'lease' | 'login';
  id: string;
  /** For a login: its database target. For a token: the task or grant its meta names. */
  where?: string;
}

export interface ReconcileDeps {
  db: Db;
  uow: DomainUnitOfWork;
  vault: VaultAdapter;
  targets: DatabaseTargets;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Lease prefixes of the dynamic scopes (`database/creds/demo-read/`). */
  leasePrefixes: string[];
  /** Database targets and the login names Grantline's grants get there (Vault's username template). */
  loginPattern: RegExp;
  /** Something is acted on only once it has been orphaned this long (a grant being minted right now is not). */
  graceMs: number;
}

/**
 * Reconciliation: compares what exists (Vault token accessors with Grantline's meta, leases under the
 * dynamic scopes' paths, PostgreSQL logins named like Grantline's) with the grants and tasks, and revokes
 * what is alive without a live grant (a broker killed between minting and recording, a revocation that
 * was lost). Everything it revokes goes on the audit log.
 */
export function createReconciler(deps: ReconcileDeps) {
  const log = deps.logger.child({ module: 'reconcile' });
  const firstSeen = new Map<string, number>();

  async function orphanTokens(live: Awaited<ReturnType<typeof liveHandles>>): Promise<Orphan[]> {
    const found: Orphan[] = [];
    for (const accessor of await deps.vault.listTokenAccessors()) {
      if (live.accessors.has(accessor)) continue;
      const info = await deps.vault.lookupTokenByAccessor(accessor).catch(() => null);
      const task = info?.meta?.grantline_task;
      const grant = info?.meta?.grantline_grant;
      if (task && !live.openTasks.has(task))
        found.push({ kind: 'token', id: accessor, where: `task ${task}` });
      if (grant && !live.liveGrants.has(grant))
        found.push({ kind: 'token', id: accessor, where: `grant ${grant}` });
    }
    return found;
  }

  async function orphanLeases(live: Awaited<ReturnType<typeof liveHandles>>): Promise<Orphan[]> {
    const found: Orphan[] = [];
    for (const prefix of deps.leasePrefixes)
      for (const id of await deps.vault.listLeases(prefix))
        if (!live.leaseIds.has(id)) found.push({ kind: 'lease', id });
    return found;
  }

  async function orphanLogins(
    live: Awaited<ReturnType<typeof liveHandles>>,
    targets: string[],
  ): Promise<Orphan[]> {
    const found: Orphan[] = [];
    for (const target of targets)
      for (const role of await deps.targets.listRoles(target, deps.loginPattern))
        if (!live.dbRoles.has(role)) found.push({ kind: 'login', id: role, where: target });
    return found;
  }

  async function revoke(o: Orphan): Promise<void> {
    if (o.kind === 'token') await deps.vault.revokeTokenByAccessor(o.id);
    if (o.kind === 'lease') await deps.vault.revokeLease(o.id);
    if (o.kind === 'login') {
      await deps.targets.lockOut(o.where!, o.id);
      await deps.targets.cleanUp(o.where!, o.id);
    }
    deps.metrics.reconciled.inc({ kind: o.kind });
    const column =
      o.kind === 'token' ? 'vault_token_accessor' : o.kind === 'lease' ? 'vault_lease_id' : 'db_role';
    await settleReconciled(deps.db, { column, value: o.id, at: deps.clock.now() });
    await deps.uow.run({}, async (w) =>
      w.audit({
        type: 'reconcile.revoked',
        taskId: null,
        principal: null,
        payload: { kind: o.kind, id: o.id, where: o.where ?? null },
      }),
    );
  }

  /**
   * Due: orphaned for at least the grace period (seen on an earlier pass of this process), or a login
   * proved lost (lost-logins.ts: created before any mint in flight began), which needs no grace.
   */
  function due(orphans: Orphan[], now: number, lost: Set<string>): Orphan[] {
    const keys = new Set(orphans.map((o) => `${o.kind}:${o.id}`));
    for (const k of firstSeen.keys()) if (!keys.has(k)) firstSeen.delete(k);
    return orphans.filter((o) => {
      const k = `${o.kind}:${o.id}`;
      if (o.kind === 'login' && lost.has(o.id)) return true;
      if (!firstSeen.has(k)) firstSeen.set(k, now);
      return now - firstSeen.get(k)! >= deps.graceMs;
    });
  }

  async function revokeEach(orphans: Orphan[]): Promise<Orphan[]> {
    const revoked: Orphan[] = [];
    for (const o of orphans) {
      try {
        await revoke(o);
        revoked.push(o);
        log.warn({ kind: o.kind, id: o.id, where: o.where }, 'reconciliation revoked an orphaned credential');
      } catch (err) {
        log.warn(
          { kind: o.kind, id: o.id, err: describe(err) },
          'reconciliation could not revoke; next pass retries',
        );
      }
    }
    return revoked;
  }

  const lostLogins = (targets: string[]) =>
    findLostLogins(deps, targets).then((found) =>
      found.map((l): Orphan => ({ kind: 'login', id: l.role, where: l.target })),
    );

  /** Revokes the logins proved lost on every target now; one pass at a time, a call during one gets the next. */
  let running: Promise<Orphan[]> | undefined;
  let queued: Promise<Orphan[]> | undefined;
  function sweepLostLogins(): Promise<Orphan[]> {
    if (queued) return queued;
    const start = () => {
      queued = undefined;
      running = lostLogins(deps.targets.names())
        .then(revokeEach)
        .finally(() => {
          running = undefined;
        });
      return running;
    };
    if (!running) return start();
    queued = running.catch(() => []).then(start);
    return queued;
  }

  return {
    /** One pass. `dryRun`: report what is orphaned, change nothing. Returns the orphans (and what was revoked). */
    async reconcileOnce(opts: { dryRun?: boolean; targets: string[] }) {
      const live = await liveHandles(deps.db);
      const orphans = [
        ...(await orphanTokens(live)),
        ...(await orphanLeases(live)),
        ...(await orphanLogins(live, opts.targets)),
      ];
      if (opts.dryRun) return { orphans, revoked: [] as Orphan[] };
      const lost = new Set((await lostLogins(opts.targets)).map((o) => o.id));
      const revoked = await revokeEach(due(orphans, deps.clock.now().getTime(), lost));
      return { orphans, revoked };
    },
    sweepLostLogins,
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
