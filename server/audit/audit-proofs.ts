import type { DbOrTx } from '../db/database';
import { InvalidRequest, NotFound } from '../shared/errors';
import { findLeafRow, leafTextOf } from './audit.repository';
import type { Checkpoint, LoggedEvent } from './audit.types';
import { loggedEvent } from './audit-leaf';
import { latestCheckpoint } from './checkpoints/checkpoint.store';
import {
  consistencyRanges,
  foldRange,
  inclusionRanges,
  type LeafRange,
  type NodeId,
  perfectNodes,
} from './merkle';
import { readNodeHashes } from './sequencer/tree-nodes';

export interface InclusionProof {
  leaf_index: number;
  tree_size: number;
  /** RFC 9162 §2.1.3 audit path, leaf to root, base64 hashes. */
  audit_path: string[];
}

export interface ConsistencyProof {
  first: number;
  second: number;
  /** RFC 9162 §2.1.4 consistency path, base64 hashes (empty when first == second). */
  consistency_path: string[];
}

/** The latest signed tree head, or 404 before the sequencer has signed one. */
export async function currentCheckpoint(db: DbOrTx): Promise<Checkpoint> {
  const latest = await latestCheckpoint(db);
  if (!latest) throw new NotFound('the audit log has no checkpoint yet');
  return latest;
}

/** Proofs are served for trees an auditor can hold a signed root of: sizes up to the latest checkpoint. */
async function checkedSize(db: DbOrTx, name: string, size: number | undefined): Promise<number> {
  const latest = await currentCheckpoint(db);
  const n = size ?? latest.tree_size;
  if (!Number.isSafeInteger(n) || n < 1 || n > latest.tree_size) {
    throw new InvalidRequest(
      `${name} must be an integer from 1 to ${latest.tree_size} (the latest checkpoint)`,
    );
  }
  return n;
}

/** RFC 9162 inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves (default: the latest checkpoint). */
export async function inclusionProof(
  db: DbOrTx,
  leafIndex: number,
  treeSize?: number,
): Promise<InclusionProof> {
  const size = await checkedSize(db, 'tree_size', treeSize);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= size) {
    throw new InvalidRequest(`leaf_index must be an integer from 0 to ${size - 1} for tree_size ${size}`);
  }
  return {
    leaf_index: leafIndex,
    tree_size: size,
    audit_path: await rangeRoots(db, inclusionRanges(leafIndex, size)),
  };
}

/** RFC 9162 consistency proof between the trees of `first` and `second` leaves (second default: latest). */
export async function consistencyProof(
  db: DbOrTx,
  first: number,
  second?: number,
): Promise<ConsistencyProof> {
  const n = await checkedSize(db, 'second', second);
  if (!Number.isSafeInteger(first) || first < 1 || first > n) {
    throw new InvalidRequest(`first must be an integer from 1 to second (${n})`);
  }
  return { first, second: n, consistency_path: await rangeRoots(db, consistencyRanges(first, n)) };
}

/** Each range's root from the stored perfect subtrees: one query for the whole proof. */
async function rangeRoots(db: DbOrTx, ranges: readonly LeafRange[]): Promise<string[]> {
  const perRange = ranges.map(([start, end]) => perfectNodes(start, end));
  const unique = new Map<string, NodeId>();
  for (const id of perRange.flat()) unique.set(`${id.level}/${id.index}`, id);
  const ids = [...unique.values()];
  const hashes = await readNodeHashes(db, ids);
  const byId = new Map(ids.map((id, i) => [`${id.level}/${id.index}`, hashes[i]!]));
  return perRange.map((nodes) =>
    foldRange(nodes.map((n) => byId.get(`${n.level}/${n.index}`)!)).toString('base64'),
  );
}

/** One event by its leaf index, exactly as its leaf commits to it. */
export async function loggedEventAt(db: DbOrTx, leafIndex: number): Promise<LoggedEvent> {
  const row =
    Number.isSafeInteger(leafIndex) && leafIndex >= 0 ? await findLeafRow(db, leafIndex) : undefined;
  if (!row) throw new NotFound(`no audit event has leaf index ${leafIndex}`);
  return loggedEvent(leafTextOf(row));
}
