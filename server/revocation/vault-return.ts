import type { Logger } from '../shared/logger';
import { describe } from './lease-revoker';
import { hurryWaitingJobs } from './revocation.repository';
import type { WorkerDeps } from './worker.types';

/**
 * Jobs back off while Vault is unreachable (up to a minute between attempts), so after a long outage the
 * next attempt could come most of a minute after Vault is back. While some job of this worker waits, each
 * tick asks Vault's health; when it answers again after failing, every waiting job is due at once
 * (issue 11: everything revoked within 15 s of Vault's return). Only that transition hurries jobs, so a
 * job backing off for another reason (a refusal, a login still in use) keeps its backoff.
 */
export function createVaultReturnWatch(
  deps: Pick<WorkerDeps, 'db' | 'vault' | 'clock'> & { logger: Logger },
) {
  let waiting = false;
  let sawDown = false;
  let probing = false;

  async function probe(): Promise<boolean> {
    const up = await deps.vault.health().then(
      (h) => h.initialized && !h.sealed,
      () => false,
    );
    if (!up) {
      sawDown = true;
      return false;
    }
    waiting = false;
    if (!sawDown) return false;
    sawDown = false;
    const jobs = await hurryWaitingJobs(deps.db, deps.clock.now());
    deps.logger.info({ jobs }, 'Vault is reachable again: waiting revocation jobs are due now');
    return jobs > 0;
  }

  return {
    /** A job of this worker was rescheduled: watch Vault until it has been seen answering. */
    jobWaits(): void {
      waiting = true;
    },
    /** One look (at most one at a time); true when waiting jobs were made due now. */
    async check(): Promise<boolean> {
      if (!waiting || probing) return false;
      probing = true;
      try {
        return await probe();
      } catch (err) {
        deps.logger.warn({ err: describe(err) }, 'could not hurry the waiting revocation jobs');
        return false;
      } finally {
        probing = false;
      }
    },
  };
}
