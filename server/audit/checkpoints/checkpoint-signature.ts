import { CompactSign } from 'jose';
import type { Checkpoint } from '../audit.types';
import type { AuditSigningKey } from './audit-keys';
import { CHECKPOINT_TYP, signedTreeHeadJson } from './checkpoint-check';

export { CHECKPOINT_TYP, checkCheckpointSignature, type SignatureProblem } from './checkpoint-check';

export interface TreeHead {
  treeSize: number;
  rootHash: Buffer;
  timestamp: number;
}

/** The signed bytes: the RFC 8785 JSON of the tree head as the API shows it (issue 13 §3). */
export function treeHeadPayload(head: TreeHead): string {
  return signedTreeHeadJson({
    root_hash: head.rootHash.toString('base64'),
    timestamp: head.timestamp,
    tree_size: head.treeSize,
  });
}

/** Signs a tree head (RFC 9162 §4.10's STH, carried as a compact JWS so any JOSE library checks it). */
export async function signTreeHead(key: AuditSigningKey, head: TreeHead): Promise<Checkpoint> {
  const signature = await new CompactSign(new TextEncoder().encode(treeHeadPayload(head)))
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: CHECKPOINT_TYP })
    .sign(key.privateKey);
  return {
    tree_size: head.treeSize,
    root_hash: head.rootHash.toString('base64'),
    timestamp: head.timestamp,
    signature,
  };
}
