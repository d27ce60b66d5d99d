import type { Access } from '../../access/access';
import type { DomainUnitOfWork } from '../../access/unit';
import type { AuditEventInput } from '../../audit/audit.types';
import type { ScopeCatalogue } from '../../config/scope-catalogue';
import { queueGrantRevocation, trackHandles } from '../../revocation/outbox';
import type { Clock } from '../../shared/clock';
import { GrantlineError, InvalidRequest, Unavailable } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { consumeSingleUse } from '../../tasks';
import type { TokenIssuer } from '../../tokens/access-token';
import { grantNeedsCustody, type TokenCustody, type VaultAdapter } from '../../vault';
import { releaseReservation, reserveForGrant } from '../budget';
import { TaskClosedWhileIssuing } from '../grant.errors';
import { activateGrant, failGrant, insertGrant } from '../grant.repository';
import { consumeOffer } from '../offer.repository';
import { type MintedHandle, MintFailed, type MintResult, mintGrant } from './mint';
import { depthOf, type GrantPlan, type GrantResponse } from './plan';
import { audClaim } from './targets';

export interface PipelineDeps {
  uow: DomainUnitOfWork;
  access: Access;
  vault: VaultAdapter;
  custody: TokenCustody;
  catalogue: ScopeCatalogue;
  tokens: TokenIssuer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  connectionValues: Record<string, string | number>;
  onRevocationQueued: () => Promise<void> | void;
}

/**
 * The one way a grant comes to be, direct or delegated: validate and decide (done by the caller, which
 * builds the plan) → reserve → mint → sign → activate. The reservation is written before Vault is called
 * (no transaction stays open across Vault); the grant turns `active` only after everything was minted
 * and signed. A failure half-way revokes what was minted (at once, and durably through a revocation
 * job) and answers 503 with nothing active; a close that lands mid-issue makes it 409.
 */
export function createGrantPipeline(deps: PipelineDeps) {
  const log = deps.logger.child({ module: 'grants' });

  return async function issueGrant(plan: GrantPlan): Promise<GrantResponse> {
    // One reading of the clock: the row's expiry and the token's `exp` are the same instant.
    const now = deps.clock.now();
    await reserve(deps, plan, now);
    const minted = await mint(deps, plan, now).catch(async (err: unknown) => {
      const handles = err instanceof MintFailed ? err.handles : [];
      const cause = err instanceof MintFailed ? err.cause : err;
      const stillPending = await compensate(deps, plan, handles, cause);
      log.warn(
        { grantId: plan.grantId, taskId: plan.task.id, err: (cause as Error)?.message },
        'grant minting failed',
      );
      // A close that revoked the task's token tree mid-mint makes Vault refuse: that is not "retry later".
      if (!stillPending) throw new TaskClosedWhileIssuing();
      throw cause instanceof GrantlineError && cause.status === 503
        ? cause
        : new Unavailable('Vault could not mint the grant; nothing was issued', { cause });
    });
    let accessToken: string;
    try {
      accessToken = await sign(deps, plan, now);
      await activate(deps, plan, minted);
    } catch (err) {
      if (err instanceof TaskClosedWhileIssuing) throw err;
      // Signing or the database failed after Vault minted: undo it. If the database is down too, the
      // grant stays pending and the abandoned-grant sweep releases it; its token dies with the task's tree.
      await compensate(deps, plan, minted.handles, err).catch(() => undefined);
      throw err;
    }
    deps.metrics.grantsIssued.inc({ kind: plan.delegation ? 'delegated' : 'direct' });
    log.info(
      { grantId: plan.grantId, taskId: plan.task.id, accessor: minted.grantToken.accessor },
      'grant issued',
    );
    return {
      iss: deps.tokens.issuer,
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

const untracked = (handles: MintedHandle[]) => handles.filter((h) => !h.tracked);

const refusedEvent = (plan: GrantPlan, err: GrantlineError): AuditEventInput => ({
  type: 'grant.refused',
  taskId: plan.task.id,
  grantId: plan.grantId,
  principal: plan.holder,
  payload: {
    error: err.code,
    reason: err.message,
    ...(err.details?.limit ? { limit: err.details.limit } : {}),
  },
});

/**
 * Step: the grant row (`pending`), its share of the limits, the single-use approvals and the redeemed
 * offer, in one unit holding the task row. When a limit refuses after policy allowed, both go on record.
 */
async function reserve(deps: PipelineDeps, plan: GrantPlan, now: Date): Promise<void> {
  try {
    await deps.uow.run({ task: plan.task.id }, async (w) => {
      const d = plan.delegation;
      await insertGrant(w.tx, {
        id: plan.grantId,
        task_id: plan.task.id,
        parent_id: d?.parent.id ?? null,
        offer_id: d?.offerId ?? null,
        depth: depthOf(plan),
        holder: plan.holder,
        chain: plan.chain,
        scopes: plan.scopes,
        audiences: plan.audiences,
        ttl_seconds: plan.ttlSeconds,
        cost: plan.cost,
        budget_reserved: d?.budget ?? null,
        actions_reserved: d?.actions ?? null,
        may_redelegate: plan.mayRedelegate,
        // A delegated grant's own scopes draw on its reservation at once; a direct grant draws on the task.
        budget_spent: d ? plan.cost : 0,
        constraints: JSON.stringify(plan.constraints),
        policy_ids: plan.allowed.decision.policyIds,
        policy_version: plan.allowed.decision.policyVersion,
        approval_id: plan.approvals[0]?.id ?? null,
        args_digest: plan.argsDigest,
        cert_thumbprint: plan.certThumbprint ?? null,
        issued_at: now,
        expires_at: new Date(now.getTime() + plan.ttlSeconds * 1000),
      });
      await consumeSingleUse(w.tx, { approvals: plan.approvals, grantId: plan.grantId, now });
      await reserveForGrant(w.tx, { taskId: plan.task.id, cost: plan.cost, delegated: d !== null, now });
      if (d && !(await consumeOffer(w.tx, { id: d.offerId, grantId: plan.grantId, now })))
        throw new InvalidRequest('the delegation was already redeemed');
    });
  } catch (err) {
    if (err instanceof GrantlineError && err.status < 500)
      await deps.access.recordRefusal(plan.allowed, refusedEvent(plan, err));
    throw err;
  }
}

/** Step: the grant's Vault token, a child of the task's (or the parent grant's), and its secrets. */
async function mint(deps: PipelineDeps, plan: GrantPlan, now: Date): Promise<MintResult> {
  const parentToken = plan.delegation
    ? await deps.custody.fetch('grant', plan.delegation.parent.id)
    : await deps.custody.fetch('task', plan.task.id);
  return mintGrant(deps, {
    grantId: plan.grantId,
    parentToken,
    scopes: plan.scopes,
    ttlSeconds: plan.ttlSeconds,
    now,
    keepInCustody: grantNeedsCustody(
      { depth: depthOf(plan), mayRedelegate: plan.mayRedelegate },
      plan.task.max_depth,
    ),
    recordGrantToken: (handle) =>
      deps.uow.run({}, (w) =>
        trackHandles(w.tx, { taskId: plan.task.id, grantId: plan.grantId, handles: [handle] }),
      ),
  });
}

/** Step: the RFC 9068 access token (jti = grant id, the whole actor chain, cnf when over mTLS). */
function sign(deps: PipelineDeps, plan: GrantPlan, now: Date): Promise<string> {
  return deps.tokens.mintAccessToken({
    grantId: plan.grantId,
    taskId: plan.task.id,
    subject: plan.task.owner,
    audiences: plan.audiences,
    scopes: plan.scopes,
    holder: plan.holder,
    chain: plan.chain,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + plan.ttlSeconds * 1000),
    ...(plan.certThumbprint ? { certThumbprint: plan.certThumbprint } : {}),
    ...(plan.argsDigest ? { argsDigest: plan.argsDigest } : {}),
  });
}

function issuedEvent(plan: GrantPlan, minted: MintResult): AuditEventInput {
  return {
    type: plan.delegation ? 'grant.delegated' : 'grant.issued',
    taskId: plan.task.id,
    grantId: plan.grantId,
    principal: plan.holder,
    payload: {
      scopes: plan.scopes,
      audience: audClaim(plan.audiences),
      ttl: plan.ttlSeconds,
      cost: plan.cost,
      depth: depthOf(plan),
      chain: plan.chain,
      parent_id: plan.delegation?.parent.id ?? null,
      offer_id: plan.delegation?.offerId ?? null,
      policy_ids: plan.allowed.decision.policyIds,
      policy_version: plan.allowed.decision.policyVersion,
      approval_ids: plan.approvals.map((a) => a.id),
      args_digest: plan.argsDigest,
      vault_token_accessor: minted.grantToken.accessor,
      lease_ids: minted.handles.filter((h) => h.leaseId).map((h) => h.leaseId),
      budget_reserved: plan.delegation?.budget ?? null,
    },
  };
}

/**
 * Step: pending → active with every Vault handle tracked and the decision recorded with its outcome.
 * No task row lock: nothing here writes the task (the leases' foreign key only takes a key-share), so a
 * close holding the task waits for this grant row and this unit never waits for close.
 */
async function activate(deps: PipelineDeps, plan: GrantPlan, minted: MintResult): Promise<void> {
  const active = await deps.uow.run({}, async (w) => {
    const ok = await activateGrant(w.tx, plan.grantId, minted.grantToken.accessor);
    await trackHandles(w.tx, {
      taskId: plan.task.id,
      grantId: plan.grantId,
      handles: untracked(minted.handles),
    });
    if (!ok) {
      await queueGrantRevocation(w.tx, {
        taskId: plan.task.id,
        grantId: plan.grantId,
        grantIds: [plan.grantId],
        now: w.now,
      });
      w.afterCommit(deps.onRevocationQueued);
      w.audit(plan.allowed.event);
      return false;
    }
    w.audit(plan.allowed.event, issuedEvent(plan, minted));
    return true;
  });
  if (!active) throw new TaskClosedWhileIssuing();
}

/**
 * Undoes a grant that failed after its reservation: the grant token is revoked at once (Vault cascades to
 * its leases), then the grant fails, its reservation comes back, and a job confirms every handle is gone.
 * Returns false when the grant had already been revoked (its task closed while we minted).
 */
async function compensate(
  deps: PipelineDeps,
  plan: GrantPlan,
  handles: MintedHandle[],
  cause: unknown,
): Promise<boolean> {
  const grantToken = handles.find((h) => h.kind === 'grant_token');
  if (grantToken?.accessor) {
    await deps.vault
      .revokeTokenByAccessor(grantToken.accessor)
      .catch((err) =>
        deps.logger.warn(
          { grantId: plan.grantId, err: (err as Error).message },
          'immediate compensation failed; the revocation job will retry',
        ),
      );
  }
  return deps.uow.run({ task: plan.task.id }, async (w) => {
    const failed = await failGrant(w.tx, plan.grantId, 'minting failed', w.now);
    if (failed) await releaseReservation(w.tx, failed);
    await trackHandles(w.tx, { taskId: plan.task.id, grantId: plan.grantId, handles: untracked(handles) });
    if (handles.length) {
      await queueGrantRevocation(w.tx, {
        taskId: plan.task.id,
        grantId: plan.grantId,
        grantIds: [plan.grantId],
        now: w.now,
      });
      w.afterCommit(deps.onRevocationQueued);
    }
    w.audit(plan.allowed.event, {
      type: 'grant.failed',
      taskId: plan.task.id,
      grantId: plan.grantId,
      principal: plan.holder,
      payload: {
        error: (cause as Error)?.message ?? String(cause),
        minted_handles: handles.length,
        task_closed: !failed,
      },
    });
    return Boolean(failed);
  });
}
