import { type RawBuilder, sql } from 'kysely';
import type { LeaseKind, Tx } from '../db/database';
import { type Cte, cte } from '../db/one-statement';

/** Where every Vault handle the broker minted is recorded (the `leases` table's inserts). */

/** A Vault handle to track (and revoke): a token by accessor or a lease by id. */
export interface TrackedHandle {
  kind: LeaseKind;
  scope: string | null;
  leaseId?: string | undefined;
  accessor?: string | undefined;
  expiresAt: Date;
  /** A database login the lease opened, and the target it lives on. */
  dbRole?: string | undefined;
  dbTarget?: string | undefined;
}

type Tracking = { taskId: string; grantId: string | null; handles: TrackedHandle[] };

const rowsOf = (q: Tracking) =>
  q.handles.map((h) => ({
    task_id: q.taskId,
    grant_id: q.grantId,
    scope: h.scope,
    kind: h.kind,
    vault_lease_id: h.leaseId ?? null,
    vault_token_accessor: h.accessor ?? null,
    expires_at: h.expiresAt,
    db_role: h.dbRole ?? null,
    db_target: h.dbTarget ?? null,
  }));

export async function insertLeases(tx: Tx, q: Tracking): Promise<void> {
  if (q.handles.length === 0) return;
  await tx.insertInto('leases').values(rowsOf(q)).execute();
}

/** The same rows as a step `name` of a one-statement unit, written only when `when` holds. */
export function insertLeasesStep(name: string, q: Tracking, when: RawBuilder<boolean>): Cte {
  const rows = rowsOf(q);
  const col = <T>(pick: (r: (typeof rows)[number]) => T): T[] => rows.map(pick);
  return cte(
    name,
    sql`insert into leases (task_id, grant_id, scope, kind, vault_lease_id, vault_token_accessor, expires_at,
        db_role, db_target)
      select * from unnest(${col((r) => r.task_id)}::uuid[], ${col((r) => r.grant_id)}::uuid[],
        ${col((r) => r.scope)}::text[], ${col((r) => r.kind)}::text[], ${col((r) => r.vault_lease_id)}::text[],
        ${col((r) => r.vault_token_accessor)}::text[], ${col((r) => r.expires_at)}::timestamptz[],
        ${col((r) => r.db_role)}::text[], ${col((r) => r.db_target)}::text[])
      where ${when}
      returning id`,
  );
}
