import { CompactSign, compactVerify, errors } from 'jose';
import type { Checkpoint } from '../audit.types';
import { canonicalJson } from '../canonical-json';
import type { AuditKeyring, AuditSigningKey } from './audit-keys';

/** JWS `typ` of a checkpoint, so a tree head can never be mistaken for a token (or a token for one). */
export const CHECKPOINT_TYP = 'grantline-checkpoint+jws';

export interface TreeHead {
  treeSize: number;
  rootHash: Buffer;
  timestamp: number;
}

/** The signed bytes: the RFC 8785 JSON of the tree head as the API shows it (issue 13 §3). */
export function treeHeadPayload(head: TreeHead): string {
  return canonicalJson({
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

export type SignatureProblem = 'unknown_key' | 'bad_signature' | 'payload_mismatch';

/**
 * Checks that `signature` is an ES256 JWS by a key of the ring over exactly this tree head. Returns the
 * problem, or undefined when the checkpoint is genuine.
 */
export async function checkCheckpointSignature(
  cp: Checkpoint,
  ring: AuditKeyring,
): Promise<SignatureProblem | undefined> {
  let payload: Uint8Array;
  try {
    const verified = await compactVerify(
      cp.signature,
      (header) => {
        const key = header.kid ? ring.get(header.kid) : undefined;
        if (!key || header.typ !== CHECKPOINT_TYP) throw new UnknownKey();
        return key;
      },
      { algorithms: ['ES256'] },
    );
    payload = verified.payload;
  } catch (err) {
    if (err instanceof UnknownKey) return 'unknown_key';
    if (err instanceof errors.JOSEError) return 'bad_signature';
    throw err;
  }
  const expected = treeHeadPayload({
    treeSize: cp.tree_size,
    rootHash: Buffer.from(cp.root_hash, 'base64'),
    timestamp: cp.timestamp,
  });
  return new TextDecoder().decode(payload) === expected ? undefined : 'payload_mismatch';
}

class UnknownKey extends Error {}
