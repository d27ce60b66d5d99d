import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import type { Checkpoint } from '../audit.types';

interface CheckpointRow {
  tree_size: string;
  root_hash: Buffer;
  timestamp_ms: string;
  signature: string;
}

const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  tree_size: Number(r.tree_size),
  root_hash: r.root_hash.toString('base64'),
  timestamp: Number(r.timestamp_ms),
  signature: r.signature,
});

export async function insertCheckpoint(db: DbOrTx, cp: Checkpoint, keyId: string): Promise<void> {
  await sql`
    insert into audit_checkpoints (tree_size, root_hash, timestamp_ms, key_id, signature)
    values (${cp.tree_size}, ${Buffer.from(cp.root_hash, 'base64')}, ${cp.timestamp}, ${keyId}, ${cp.signature})`.execute(
    db,
  );
}

export async function latestCheckpoint(db: DbOrTx): Promise<Checkpoint | undefined> {
  const r = await sql<CheckpointRow>`
    select tree_size, root_hash, timestamp_ms, signature from audit_checkpoints
    order by tree_size desc limit 1`.execute(db);
  return r.rows[0] && toCheckpoint(r.rows[0]);
}

/** Checkpoints with tree_size > after, ascending, at most `limit` (all when limit is undefined). */
export async function listCheckpoints(db: DbOrTx, after: number, limit?: number): Promise<Checkpoint[]> {
  const r = await sql<CheckpointRow>`
    select tree_size, root_hash, timestamp_ms, signature from audit_checkpoints
    where tree_size > ${after} order by tree_size ${limit === undefined ? sql`` : sql`limit ${limit}`}`.execute(
    db,
  );
  return r.rows.map(toCheckpoint);
}
