import type { Tx } from './database';

/**
 * The one lock order of Grantline: a transaction that changes a task's grants, offers or counters first
 * locks the task row, then grants, then offers and leases, and appends to the audit log (whose single
 * head row serialises every writer) last. `FOR NO KEY UPDATE` keeps foreign-key checks from inserts
 * that reference the task (leases, jobs) from waiting behind it.
 */
export async function lockTaskRow(tx: Tx, taskId: string): Promise<void> {
  await tx.selectFrom('tasks').select('id').where('id', '=', taskId).forNoKeyUpdate().execute();
}

/** Locks several tasks in id order (so two sweepers cannot deadlock), skipping ones locked elsewhere. */
export async function lockTaskRows(tx: Tx, taskIds: string[]): Promise<string[]> {
  if (taskIds.length === 0) return [];
  const rows = await tx
    .selectFrom('tasks')
    .select('id')
    .where('id', 'in', [...new Set(taskIds)].sort())
    .orderBy('id')
    .forNoKeyUpdate()
    .skipLocked()
    .execute();
  return rows.map((r) => r.id);
}
