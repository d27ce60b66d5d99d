import type { Checkpoint, LoggedEvent } from './audit.types';
import type { InclusionProof } from './audit-proofs';
import { canonicalJson } from './canonical-json';
import { hashLeaf, verifyConsistency, verifyInclusion } from './merkle';

/**
 * What an auditor does with what the API hands out (issue 13, "Done when"): hash the event as returned
 * (RFC 8785), walk the audit path to the checkpoint's root; walk a consistency path from an older
 * checkpoint to a newer one. Signatures are checked separately (checkCheckpointSignature).
 */

const hashes = (path: readonly string[]) => path.map((h) => Buffer.from(h, 'base64'));

export function verifyInclusionProof(
  event: LoggedEvent,
  proof: InclusionProof,
  checkpoint: Checkpoint,
): boolean {
  return (
    proof.leaf_index === event.leaf_index &&
    proof.tree_size === checkpoint.tree_size &&
    verifyInclusion(
      proof.leaf_index,
      proof.tree_size,
      hashLeaf(canonicalJson(event)),
      hashes(proof.audit_path),
      Buffer.from(checkpoint.root_hash, 'base64'),
    )
  );
}

export function verifyConsistencyProof(
  older: Checkpoint,
  newer: Checkpoint,
  path: readonly string[],
): boolean {
  return verifyConsistency(
    older.tree_size,
    newer.tree_size,
    Buffer.from(older.root_hash, 'base64'),
    Buffer.from(newer.root_hash, 'base64'),
    hashes(path),
  );
}
