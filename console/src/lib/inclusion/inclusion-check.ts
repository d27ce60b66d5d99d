import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import type { Checkpoint } from '../../../../server/audit/audit.types';
import { canonicalJson } from '../../../../server/audit/canonical-json';
import { AUDIT_KEY_USE, auditKeyring } from '../../../../server/audit/checkpoints/audit-keys';
import { checkCheckpointSignature } from '../../../../server/audit/checkpoints/checkpoint-check';
import { fromBase64, HASH_BYTES, leafHash, rootFromAuditPath, sameBytes, toBase64 } from './merkle-webcrypto';

/**
 * An auditor's own check, in the browser, that an audit event is in the signed transparency log
 * (issue 13, RFC 9162): the checkpoint's ES256 signature against the audit key of the JWKS, the event's
 * leaf (the RFC 8785 JSON of the event exactly as shown), and the audit path from that leaf to the
 * signed root. Nothing here asks the broker whether the log is sound; it only hands over the evidence.
 */

export type { Checkpoint };

export interface InclusionProof {
  leaf_index: number;
  tree_size: number;
  audit_path: string[];
}

export interface Evidence {
  /** The event as the console shows it: its leaf is exactly this object's canonical JSON. */
  event: { leaf_index: number };
  checkpoint: Checkpoint;
  jwks: { keys?: unknown };
  /** Absent when no signed checkpoint covers the event yet (there is nothing to prove it against). */
  proof: InclusionProof | undefined;
}

/** Which check failed, in the order they run. */
export type FailedCheck =
  | 'checkpoint_signature'
  | 'checkpoint_coverage'
  | 'proof_shape'
  | 'event_encoding'
  | 'root_mismatch'
  /** The evidence could not be fetched at all (network, an HTTP error): nothing was checked. */
  | 'evidence_unavailable';

export type Failure = { ok: false; failed: FailedCheck; message: string };

export type InclusionVerdict =
  | {
      ok: true;
      leafIndex: number;
      treeSize: number;
      rootHash: string;
      signedAt: string;
      kid: string;
      /** RFC 7638 thumbprint of the audit key, to compare with one obtained out of band. */
      keyThumbprint: string;
    }
  | Failure;

const fail = (failed: FailedCheck, message: string) => ({ ok: false, failed, message }) as const;

const SIGNATURE_PROBLEMS = {
  unknown_key: 'it is not signed by an audit key of the broker\u2019s JWKS (use "audit")',
  bad_signature: 'its ES256 signature does not verify with the audit key it names',
  payload_mismatch: 'the signed tree head differs from the tree size, root or time it claims',
} as const;

/** Runs every check; the first that fails is named, with what it found. */
export async function verifyEventInclusion(e: Evidence): Promise<InclusionVerdict> {
  const { event, checkpoint: cp } = e;
  const problem = await checkCheckpointSignature(cp, await auditKeyring(e.jwks));
  if (problem)
    return fail('checkpoint_signature', `The checkpoint is not genuine: ${SIGNATURE_PROBLEMS[problem]}.`);
  if (!(event.leaf_index < cp.tree_size))
    return fail(
      'checkpoint_coverage',
      `Leaf ${event.leaf_index} is not yet in a signed checkpoint (the latest covers ${cp.tree_size} leaves).`,
    );
  const root = await recomputedRoot(e);
  if ('failed' in root) return root;
  const signedRoot = fromBase64(cp.root_hash);
  if (!signedRoot || !sameBytes(root, signedRoot))
    return fail(
      'root_mismatch',
      `The event\u2019s leaf hash and the audit path lead to root ${toBase64(root)}, not to the signed ` +
        `root ${cp.root_hash}: the event as shown, or the proof, is not what the log signed.`,
    );
  return {
    ok: true,
    leafIndex: event.leaf_index,
    treeSize: cp.tree_size,
    rootHash: cp.root_hash,
    signedAt: new Date(cp.timestamp).toISOString(),
    ...(await signingKey(cp, e.jwks)),
  };
}

/** RFC 9162 §2.1.3.2 from the event's own leaf hash along the proof's audit path. */
async function recomputedRoot({ event, checkpoint: cp, proof }: Evidence): Promise<Uint8Array | Failure> {
  const at = `leaf ${event.leaf_index} of a tree of ${cp.tree_size}`;
  if (!proof) return fail('proof_shape', `The broker gave no inclusion proof for ${at}.`);
  if (proof.leaf_index !== event.leaf_index || proof.tree_size !== cp.tree_size)
    return fail(
      'proof_shape',
      `The proof is for leaf ${proof.leaf_index} of a tree of ${proof.tree_size}, not for ${at}.`,
    );
  const path = Array.isArray(proof.audit_path) ? proof.audit_path.map(fromBase64) : [undefined];
  if (path.some((h) => h?.length !== HASH_BYTES))
    return fail('proof_shape', 'The audit path holds something other than 32-byte base64 hashes.');
  let leaf: string;
  try {
    leaf = canonicalJson(event);
  } catch (err) {
    return fail('event_encoding', `The event has no RFC 8785 form: ${(err as Error).message}.`);
  }
  const hashes = path as Uint8Array[];
  const root = await rootFromAuditPath(event.leaf_index, cp.tree_size, await leafHash(leaf), hashes);
  return root ?? fail('proof_shape', `${path.length} hashes cannot be the audit path of ${at}.`);
}

/** The kid the verified signature names, and that key's RFC 7638 thumbprint. */
async function signingKey(
  cp: Checkpoint,
  jwks: Evidence['jwks'],
): Promise<{ kid: string; keyThumbprint: string }> {
  const kid = String(decodeProtectedHeader(cp.signature).kid);
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as JWK[]) : [];
  const jwk = keys.find((k) => k.kid === kid && k.use === AUDIT_KEY_USE)!;
  return { kid, keyThumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}
