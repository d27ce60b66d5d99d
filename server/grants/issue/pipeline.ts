import type { Access } from '../../access/access';
import type { DomainUnitOfWork } from '../../access/unit';
import type { ScopeCatalogue } from '../../config/scope-catalogue';
import type { Db } from '../../db/database';
import { rowsOf } from '../../db/one-statement';
import { trackHandles, trackHandlesStep } from '../../revocation/outbox';
import type { Clock } from '../../shared/clock';
import { GrantlineError, Unavailable } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { TokenIssuer } from '../../tokens/access-token';
import { grantNeedsCustody, type TokenCustody, type VaultAdapter } from '../../vault';
import { releaseReservation } from '../budget';
import { TaskClosedWhileIssuing } from '../grant.errors';
import { failGrant } from '../grant.repository';
import { activate, queueRevocationOf, untracked } from './activate';
import { type MintedHandle, MintFailed, type MintResult, mintGrant } from './mint';
import { depthOf, type GrantPlan, type GrantResponse } from './plan';
import { reserve } from './reserve';

export interface PipelineDeps {
  db: Db;
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
    // One statement: a transaction's BEGIN and COMMIT would add two round trips beside the secret read.
    recordGrantToken: (handle) =>
      deps.uow.once(() => ({
        steps: [trackHandlesStep({ taskId: plan.task.id, grantId: plan.grantId, handles: [handle] })],
        answer: { tracked: rowsOf('leases_row') },
      })),
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
    if (handles.length) await queueRevocationOf(w, plan, deps);
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
