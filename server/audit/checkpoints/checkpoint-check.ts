import { compactVerify, errors } from 'jose';
import type { Checkpoint } from '../audit.types';
import { canonicalJson } from '../canonical-json';
import type { AuditKeyring } from './audit-keys';

/**
 * Checking a checkpoint's signature, free of Node (jose on WebCrypto): the broker's verifier and the
 * console in the auditor's browser run this same code.
 */

/** JWS `typ` of a checkpoint, so a tree head can never be mistaken for a token (or a token for one). */
export const CHECKPOINT_TYP = 'grantline-checkpoint+jws';

/** The signed bytes: the RFC 8785 JSON of the tree head as the API shows it (issue 13 §3). */
export function signedTreeHeadJson(head: Pick<Checkpoint, 'root_hash' | 'timestamp' | 'tree_size'>): string {
  return canonicalJson({ root_hash: head.root_hash, timestamp: head.timestamp, tree_size: head.tree_size });
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
  return new TextDecoder().decode(payload) === signedTreeHeadJson(cp) ? undefined : 'payload_mismatch';
}

class UnknownKey extends Error {}
