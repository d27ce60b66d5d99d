import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import { hashChildren, type NodeId } from '../merkle';

/**
 * Perfect subtrees below this level are not stored: a proof rebuilds them from at most 2^(level-1)
 * leaf hashes it reads anyway, and the sequencer writes one node row per 16 leaves instead of one per
 * leaf. Levels 1..3 are therefore folded here from the leaves they cover.
 */
export const MIN_STORED_LEVEL = 4;

/** The stored tree disagrees with itself or with what was signed: nothing may be built or proved on it. */
export class AuditTreeDamaged extends Error {
  override readonly name = 'AuditTreeDamaged';
}

const key = (level: number, index: number) => `${level}/${index}`;

/**
 * The hashes of the given perfect subtrees, in the order asked, in one query. Throws AuditTreeDamaged
 * when one cannot be found: the tree tables were damaged, and nothing should be built or proved on them.
 */
export async function readNodeHashes(db: DbOrTx, ids: readonly NodeId[]): Promise<Buffer[]> {
  if (ids.length === 0) return [];
  const leafIndexes = new Set<number>();
  const stored: NodeId[] = [];
  for (const id of ids) {
    if (id.level >= MIN_STORED_LEVEL) stored.push(id);
    else for (let i = 0; i < 2 ** id.level; i += 1) leafIndexes.add(id.index * 2 ** id.level + i);
  }
  const r = await sql<{ level: number; node_index: string; hash: Buffer }>`
    select 0 as level, leaf_index as node_index, hash from audit_leaves where leaf_index = any(${[...leafIndexes]}::bigint[])
    union all
    select n.level, n.node_index, n.hash from audit_tree_nodes n
    join unnest(${stored.map((n) => n.level)}::smallint[], ${stored.map((n) => n.index)}::bigint[]) as w(level, node_index)
      on n.level = w.level and n.node_index = w.node_index`.execute(db);
  const found = new Map(r.rows.map((row) => [key(row.level, Number(row.node_index)), row.hash]));
  return ids.map((id) => nodeHash(found, id));
}

function nodeHash(found: ReadonlyMap<string, Buffer>, id: NodeId): Buffer {
  const direct = found.get(key(id.level, id.index));
  if (direct) return direct;
  if (id.level === 0 || id.level >= MIN_STORED_LEVEL) {
    throw new AuditTreeDamaged(`the audit tree has no node at level ${id.level} index ${id.index}`);
  }
  return hashChildren(
    nodeHash(found, { level: id.level - 1, index: id.index * 2 }),
    nodeHash(found, { level: id.level - 1, index: id.index * 2 + 1 }),
  );
}
