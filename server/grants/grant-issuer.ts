import { appendAuditEvents } from '../audit/audit.service';
import type { AuditEventInput } from '../audit/audit.types';
import type { ScopeCatalogue } from '../config/scope-catalogue';
import type { ApprovalRow, Db, GrantRow, TaskRow, Tx } from '../db/database';
import { lockTaskRow } from '../db/locks';
import { releaseReservation } from '../revocation/release-reservation';
import { enqueueJob } from '../revocation/revocation.repository';
import type { Clock } from '../shared/clock';
import { GrantlineError, Unavailable } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { consumeApproval } from '../tasks/task.repository';
import type { TokenIssuer } from '../tokens/access-token';
import { grantNeedsCustody, type TokenCustody, type VaultAdapter } from '../vault';
import { TaskClosedWhileIssuing } from './grant.errors';
import { activateGrant, failGrant, insertGrant, recordHandles } from './grant.repository';
import { type IssuedSecret, type MintedHandle, MintFailed, mintGrant } from './minting';

export interface IssuerDeps {
  db: Db;
  vault: VaultAdapter;
  custody: TokenCustody;
  catalogue: ScopeCatalogue;
  tokens: TokenIssuer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  connectionValues: Record<string, string | number>;
  onRevocationQueued: () => void;
}

/** Everything decided about a grant before anything is minted. */
export interface GrantPlan {
  grantId: string;
  task: TaskRow;
  parent: GrantRow | null;
  offerId: string | null;
  holder: string;
  /** Holders from the root grant down to this one (this holder last). */
  chain: string[];
  scopes: string[];
  audience: string;
  ttlSeconds: number;
  cost: number;
  budgetReserved: number | null;
  mayRedelegate: boolean;
  policyIds: string[];
  policyVersion: string;
  approvals: ApprovalRow[];
  certThumbprint: string | undefined;
  /** What this hop was allowed, kept for auditors (scopes, ttl, budget, depth, …). */
  constraints: Record<string, unknown>;
  /** Takes the quota (task-wide, and the parent's reservation for a delegation) inside T1. */
  reserve(tx: Tx): Promise<void>;
  /** The allow decision, audited together with the grant's outcome (issued, failed or refused). */
  decisionEvent: AuditEventInput;
}

export interface GrantResponse {
  grant_id: string;
  task_id: string;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  secrets: IssuedSecret[];
}

/**
 * request → (policy, done by the caller) → limits → mint → respond. Quota is taken and the grant row
 * written as `pending` before Vault is called (no transaction stays open across Vault); the grant turns
 * `active` only after everything was minted. A failure half-way revokes what was minted (at once, and
 * durably through a revocation job) and answers 503 with nothing active.
 */
export function createGrantIssuer(deps: IssuerDeps) {
  const log = deps.logger.child({ module: 'grants' });

  async function reserve(plan: GrantPlan, now: Date): Promise<void> {
    // The task row (every grant of the task queues on it) is taken last and held only until commit; the
    // new grant row is invisible to anyone else until then, so this keeps the lock order of db/locks.ts.
    await deps.db.transaction().execute(async (tx) => {
      await insertGrant(tx, {
        id: plan.grantId,
        task_id: plan.task.id,
        parent_id: plan.parent?.id ?? null,
        offer_id: plan.offerId,
        depth: plan.chain.length - 1,
        holder: plan.holder,
        chain: plan.chain,
        scopes: plan.scopes,
        audience: plan.audience,
        ttl_seconds: plan.ttlSeconds,
        cost: plan.cost,
        budget_reserved: plan.budgetReserved,
        may_redelegate: plan.mayRedelegate,
        // A delegated grant's own scopes draw on its reservation at once; a direct grant draws on the task.
        budget_spent: plan.budgetReserved === null ? 0 : plan.cost,
        constraints: JSON.stringify(plan.constraints),
        policy_ids: plan.policyIds,
        policy_version: plan.policyVersion,
        approval_id: plan.approvals[0]?.id ?? null,
        cert_thumbprint: plan.certThumbprint ?? null,
        issued_at: now,
        expires_at: new Date(now.getTime() + plan.ttlSeconds * 1000),
      });
      for (const a of plan.approvals.filter((x) => x.single_use)) {
        if (!(await consumeApproval(tx, a.id, plan.grantId, now))) {
          throw new GrantlineError(
            'access_denied',
            403,
            `the single-use approval for ${a.scope} was already used`,
          );
        }
      }
      await plan.reserve(tx);
    });
  }

  /** Returns false when the grant had already been revoked (its task closed while we minted). */
  async function compensate(
    plan: GrantPlan,
    handles: MintedHandle[],
    cause: unknown,
    now: Date,
  ): Promise<boolean> {
    const grantToken = handles.find((h) => h.kind === 'grant_token');
    // Revoking the grant token cascades to every lease and scope token under it; the job confirms each.
    if (grantToken?.accessor) {
      await deps.vault
        .revokeTokenByAccessor(grantToken.accessor)
        .catch((err) =>
          log.warn(
            { grantId: plan.grantId, err: (err as Error).message },
            'immediate compensation failed; the revocation job will retry',
          ),
        );
    }
    const failedHere = await deps.db.transaction().execute(async (tx) => {
      await lockTaskRow(tx, plan.task.id);
      const pending = await failGrant(tx, plan.grantId, 'minting failed', now);
      if (pending) {
        await releaseReservation(tx, {
          id: plan.grantId,
          task_id: plan.task.id,
          cost: plan.cost,
          budget_reserved: plan.budgetReserved,
          offer_id: plan.offerId,
        });
      }
      await recordHandles(tx, { taskId: plan.task.id, grantId: plan.grantId, handles });
      if (handles.length)
        await enqueueJob(tx, {
          taskId: plan.task.id,
          grantId: plan.grantId,
          kind: 'revoke_grants',
          payload: { grantIds: [plan.grantId] },
          dueAt: now,
        });
      await appendAuditEvents(
        tx,
        [
          plan.decisionEvent,
          {
            type: 'grant.failed',
            taskId: plan.task.id,
            grantId: plan.grantId,
            principal: plan.holder,
            payload: {
              error: (cause as Error)?.message ?? String(cause),
              minted_handles: handles.length,
              task_closed: !pending,
            },
          },
        ],
        deps.clock,
      );
      return pending;
    });
    if (handles.length) deps.onRevocationQueued();
    return failedHere;
  }

  async function activate(
    plan: GrantPlan,
    minted: { accessor: string; handles: MintedHandle[] },
    now: Date,
  ): Promise<void> {
    // No task row lock here: nothing below touches the task (leases only take a key-share on it), so a
    // close that holds the task waits for this grant row, and this transaction never waits for close.
    const active = await deps.db.transaction().execute(async (tx) => {
      const ok = await activateGrant(tx, plan.grantId, minted.accessor);
      await recordHandles(tx, { taskId: plan.task.id, grantId: plan.grantId, handles: minted.handles });
      if (!ok) {
        await enqueueJob(tx, {
          taskId: plan.task.id,
          grantId: plan.grantId,
          kind: 'revoke_grants',
          payload: { grantIds: [plan.grantId] },
          dueAt: now,
        });
        await appendAuditEvents(tx, [plan.decisionEvent], deps.clock);
        return false;
      }
      // The allow decision is recorded with its outcome (here, or in compensate/recordRefusal), so the
      // reservation transaction holds the task row for as short a time as possible.
      await appendAuditEvents(
        tx,
        [
          plan.decisionEvent,
          {
            type: plan.parent ? 'grant.delegated' : 'grant.issued',
            taskId: plan.task.id,
            grantId: plan.grantId,
            principal: plan.holder,
            payload: {
              scopes: plan.scopes,
              audience: plan.audience,
              ttl: plan.ttlSeconds,
              cost: plan.cost,
              depth: plan.chain.length - 1,
              chain: plan.chain,
              parent_id: plan.parent?.id ?? null,
              offer_id: plan.offerId,
              policy_ids: plan.policyIds,
              policy_version: plan.policyVersion,
              approval_ids: plan.approvals.map((a) => a.id),
              vault_token_accessor: minted.accessor,
              lease_ids: minted.handles.filter((h) => h.leaseId).map((h) => h.leaseId),
              budget_reserved: plan.budgetReserved,
            },
          },
        ],
        deps.clock,
      );
      return true;
    });
    if (!active) {
      deps.onRevocationQueued();
      throw new TaskClosedWhileIssuing();
    }
  }

  /**
   * Policy allowed but a limit (or a lost single-use approval) refused: the reservation transaction rolled
   * back with the allow decision in it, so record both here; every decision is an audit event.
   */
  async function recordRefusal(plan: GrantPlan, err: GrantlineError): Promise<void> {
    await deps.db.transaction().execute(async (tx) => {
      await appendAuditEvents(
        tx,
        [
          plan.decisionEvent,
          {
            type: 'grant.refused',
            taskId: plan.task.id,
            grantId: plan.grantId,
            principal: plan.holder,
            payload: {
              error: err.code,
              reason: err.message,
              ...(err.details?.limit ? { limit: err.details.limit } : {}),
            },
          },
        ],
        deps.clock,
      );
    });
  }

  return async function issueGrant(plan: GrantPlan): Promise<GrantResponse> {
    const now = deps.clock.now();
    try {
      await reserve(plan, now);
    } catch (err) {
      if (err instanceof GrantlineError && err.status < 500) await recordRefusal(plan, err);
      throw err;
    }
    let minted: Awaited<ReturnType<typeof mintGrant>>;
    try {
      const parentToken = plan.parent
        ? await deps.custody.fetch('grant', plan.parent.id)
        : await deps.custody.fetch('task', plan.task.id);
      minted = await mintGrant(deps, {
        grantId: plan.grantId,
        parentToken,
        scopes: plan.scopes,
        ttlSeconds: plan.ttlSeconds,
        now,
        keepInCustody: grantNeedsCustody(
          { depth: plan.chain.length - 1, mayRedelegate: plan.mayRedelegate },
          plan.task.max_depth,
        ),
      });
    } catch (err) {
      const handles = err instanceof MintFailed ? err.handles : [];
      const cause = err instanceof MintFailed ? err.cause : err;
      const stillPending = await compensate(plan, handles, cause, now);
      log.warn(
        { grantId: plan.grantId, taskId: plan.task.id, err: (cause as Error)?.message },
        'grant minting failed',
      );
      // A close that revoked the task's token tree mid-mint makes Vault refuse: that is not "retry later".
      if (!stillPending) throw new TaskClosedWhileIssuing();
      throw cause instanceof GrantlineError && cause.status === 503
        ? cause
        : new Unavailable('Vault could not mint the grant; nothing was issued', { cause });
    }
    const expiresAt = new Date(now.getTime() + plan.ttlSeconds * 1000);
    let accessToken: string;
    try {
      accessToken = await deps.tokens.mintAccessToken({
        grantId: plan.grantId,
        taskId: plan.task.id,
        subject: plan.task.owner,
        audience: plan.audience,
        scopes: plan.scopes,
        holder: plan.holder,
        chain: plan.chain,
        expiresAt,
        ...(plan.certThumbprint ? { certThumbprint: plan.certThumbprint } : {}),
      });
      await activate(plan, { accessor: minted.grantToken.accessor, handles: minted.handles }, now);
    } catch (err) {
      if (err instanceof TaskClosedWhileIssuing) throw err;
      // Signing or the database failed after Vault minted: undo it (compensate revokes at once, then
      // records the handles and a revocation job; if the database is down too, the grant stays pending
      // and the abandoned-grant sweep releases it, while the Vault token dies with its parent's tree).
      await compensate(plan, minted.handles, err, now).catch(() => undefined);
      throw err;
    }
    deps.metrics.grantsIssued.inc({ kind: plan.parent ? 'delegated' : 'direct' });
    log.info(
      { grantId: plan.grantId, taskId: plan.task.id, accessor: minted.grantToken.accessor },
      'grant issued',
    );
    return {
      grant_id: plan.grantId,
      task_id: plan.task.id,
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: plan.ttlSeconds,
      scope: plan.scopes.join(' '),
      secrets: minted.secrets,
    };
  };
}

export type IssueGrant = ReturnType<typeof createGrantIssuer>;
