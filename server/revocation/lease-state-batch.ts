import type { DbOrTx } from '../db/database';
import { type LeaseStateChange, setLeaseStates } from './revocation.repository';

const BATCH = 200;

/**
 * Collects the outcomes of a job's lease pass and writes them `BATCH` at a time, one statement each,
 * instead of one UPDATE per lease. An outcome not yet written when the broker dies leaves its lease
 * `active`: the job is retried, and the retry proves the handle gone again (idempotent).
 */
export function createLeaseStateBatch(db: DbOrTx) {
  let pending: LeaseStateChange[] = [];
  const write = async () => {
    const rows = pending;
    pending = [];
    await setLeaseStates(db, rows);
  };
  return {
    async add(change: LeaseStateChange): Promise<void> {
      pending.push(change);
      if (pending.length >= BATCH) await write();
    },
    /** Writes what is left; the pass is over. */
    flush: (): Promise<void> => (pending.length ? write() : Promise.resolve()),
  };
}
