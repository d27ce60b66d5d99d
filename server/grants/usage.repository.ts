import type { DbOrTx, Tx, UsageReportsTable } from '../db/database';

/** The only writer of the `usage_reports` table: one row per report, keyed by the id its sender chose. */

export type UsageReportRow = Omit<UsageReportsTable, 'received_at'> & { received_at: Date };

export async function findUsageReport(db: DbOrTx, id: string): Promise<UsageReportRow | undefined> {
  return db.selectFrom('usage_reports').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUsageReport(tx: Tx, row: Omit<UsageReportRow, 'received_at'>): Promise<void> {
  await tx.insertInto('usage_reports').values(row).execute();
}
