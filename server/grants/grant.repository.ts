import type { DbOrTx, GrantRow, NewGrant, Tx } from '../db/database';
import type { MintedHandle } from './minting';

export async function insertGrant(tx: Tx, row: NewGrant): Promise<void> {
  await tx.insertInto('grants').values(row).execute();
}

export async function findGrant(db: DbOrTx, id: string): Promise<GrantRow | undefined> {
  return db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** pending → active; false when the grant was revoked meanwhile (its task closed while we minted). */
export async function activateGrant(tx: Tx, id: string, accessor: string): Promise<boolean> {
  const r = await tx
    .updateTable('grants')
    .set({ status: 'active', vault_token_accessor: accessor })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** pending → failed; false when something else (a close) already ended it. */
export async function failGrant(tx: Tx, id: string, reason: string, now: Date): Promise<boolean> {
  const r = await tx
    .updateTable('grants')
    .set({ status: 'failed', revoked_at: now, revoke_reason: reason })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function recordHandles(
  tx: Tx,
  q: { taskId: string; grantId: string; handles: MintedHandle[] },
): Promise<void> {
  if (q.handles.length === 0) return;
  await tx
    .insertInto('leases')
    .values(
      q.handles.map((h) => ({
        task_id: q.taskId,
        grant_id: q.grantId,
        scope: h.scope,
        kind: h.kind,
        vault_lease_id: h.leaseId ?? null,
        vault_token_accessor: h.accessor ?? null,
        expires_at: h.expiresAt,
      })),
    )
    .execute();
}

/** The state introspection needs, in one round trip: the grant and whether its task is still open. */
export async function findGrantForIntrospection(db: DbOrTx, id: string) {
  return db
    .selectFrom('grants as g')
    .innerJoin('tasks as t', 't.id', 'g.task_id')
    .select([
      'g.id',
      'g.status',
      'g.expires_at',
      'g.holder',
      'g.chain',
      'g.task_id',
      'g.scopes',
      'g.cert_thumbprint',
      't.status as task_status',
      't.owner as task_owner',
    ])
    .where('g.id', '=', id)
    .executeTakeFirst();
}

export async function revocationsAfter(db: DbOrTx, q: { after: number; limit: number; taskId?: string }) {
  let query = db
    .selectFrom('revocation_feed')
    .select(['seq', 'grant_id', 'task_id', 'reason', 'revoked_at'])
    .where('seq', '>', String(q.after))
    .orderBy('seq')
    .limit(q.limit);
  if (q.taskId) query = query.where('task_id', '=', q.taskId);
  return query.execute();
}
