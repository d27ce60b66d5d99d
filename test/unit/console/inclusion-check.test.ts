import { calculateJwkThumbprint } from 'jose';
import { type Evidence, verifyEventInclusion } from '../../../console/src/lib/inclusion/inclusion-check';
import { leafHash } from '../../../console/src/lib/inclusion/merkle-webcrypto';
import {
  type Checkpoint,
  canonicalJson,
  type InclusionProof,
  type LoggedEvent,
  verifyInclusionProof,
} from '../../../server/audit';
import { eventBody, leafFromBody, leafFromLegacy, loggedEvent } from '../../../server/audit/audit-leaf';
import { buildAuditKeys } from '../../../server/audit/checkpoints/audit-keys';
import { signTreeHead } from '../../../server/audit/checkpoints/checkpoint-signature';
import {
  foldRange,
  hashChildren,
  hashLeaf,
  inclusionRanges,
  perfectNodes,
  splitPoint,
} from '../../../server/audit/merkle';
import { generateSigningKeyPem, signingKeyFromPem } from '../../../server/tokens/key-material';

/**
 * The console's in-browser check against the broker's own Merkle code: a small log is built here the
 * way the broker builds it (leaves from audit-leaf, stored perfect subtrees folded as audit-proofs
 * folds them, a checkpoint signed by the sequencer's signTreeHead), and the browser module must accept
 * every genuine proof the broker's verifier accepts and name the check that fails for anything else.
 */

/** The events of a log of `n` leaves, as the API returns them (leaf text parsed). */
function buildLog(n: number): { events: LoggedEvent[]; leaves: Buffer[] } {
  const events: LoggedEvent[] = [];
  for (let i = 0; i < n; i += 1) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
    const leaf =
      i === 0
        ? leafFromLegacy(
            {
              seq: 1,
              at,
              type: 'task.opened',
              task_id: null,
              grant_id: null,
              principal: 'ops',
              payload: {},
              prev_hash: '00',
              hash: 'ab',
            },
            0,
          )
        : leafFromBody(
            eventBody(
              { at, type: 'grant.issued', taskId: null, grantId: null, principal: 'spiffe://demo/agent/a' },
              canonicalJson({ n: i, scope: 'db:demo:read', note: 'r\u00e9sum\u00e9 \ud83d\udd11', x: 1e21 }),
            ),
            i,
          );
    events.push(loggedEvent(leaf));
  }
  return { events, leaves: events.map((e) => hashLeaf(canonicalJson(e))) };
}

/** RFC 9162 §2.1.1 MTH, the reference for the stored perfect-subtree hashes. */
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** The broker's proof construction (audit-proofs rangeRoots) over in-memory subtrees. */
function proofFor(leaves: readonly Buffer[], m: number, n: number): InclusionProof {
  const subtree = (level: number, index: number) =>
    mth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level));
  const audit_path = inclusionRanges(m, n).map(([start, end]) =>
    foldRange(perfectNodes(start, end).map((id) => subtree(id.level, id.index))).toString('base64'),
  );
  return { leaf_index: m, tree_size: n, audit_path };
}

async function auditKey(kid = 'audit-1') {
  const generated = await signingKeyFromPem(generateSigningKeyPem(), kid);
  const key = { ...generated, kid, publicJwk: { ...generated.publicJwk, kid } };
  return { key, jwks: buildAuditKeys(key).jwks() };
}

const sign = (
  key: Awaited<ReturnType<typeof auditKey>>['key'],
  leaves: readonly Buffer[],
): Promise<Checkpoint> =>
  signTreeHead(key, { treeSize: leaves.length, rootHash: mth(leaves), timestamp: 1_767_225_600_000 });

describe('inclusion checked in the browser (console/src/lib/inclusion)', () => {
  let signer: Awaited<ReturnType<typeof auditKey>>;
  const log = buildLog(13);
  let cp: Checkpoint;
  const evidence = (m: number, over: Partial<Evidence> = {}): Evidence => ({
    event: log.events[m]!,
    checkpoint: cp,
    jwks: signer.jwks,
    proof: proofFor(log.leaves, m, cp.tree_size),
    ...over,
  });
  beforeAll(async () => {
    signer = await auditKey();
    cp = await sign(signer.key, log.leaves);
  });

  test('when a leaf text has non-ASCII characters, then the browser\u2019s leaf hash is the broker\u2019s', async () => {
    for (const e of log.events) {
      const text = canonicalJson(e);
      expect(Buffer.from(await leafHash(text)).equals(hashLeaf(text))).toBe(true);
    }
  });

  test('when every event of trees of 1 to 13 leaves is checked, then the browser and the broker both accept each proof', async () => {
    let checked = 0;
    for (let n = 1; n <= 13; n += 1) {
      const leaves = log.leaves.slice(0, n);
      const head = await sign(signer.key, leaves);
      for (let m = 0; m < n; m += 1) {
        const proof = proofFor(leaves, m, n);
        expect(verifyInclusionProof(log.events[m]!, proof, head)).toBe(true);
        const verdict = await verifyEventInclusion({
          event: log.events[m]!,
          checkpoint: head,
          jwks: signer.jwks,
          proof,
        });
        expect(verdict).toMatchObject({ ok: true, leafIndex: m, treeSize: n, rootHash: head.root_hash });
        checked += 1;
      }
    }
    expect(checked).toBe((13 * 14) / 2);
  });

  test('when the proof checks out, then the verdict names the signing key and its RFC 7638 thumbprint and the signing time', async () => {
    const verdict = await verifyEventInclusion(evidence(5));
    expect(verdict).toEqual({
      ok: true,
      leafIndex: 5,
      treeSize: 13,
      rootHash: cp.root_hash,
      signedAt: '2026-01-01T00:00:00.000Z',
      kid: 'audit-1',
      keyThumbprint: await calculateJwkThumbprint(signer.jwks.keys[0]!, 'sha256'),
    });
  });

  test.each([
    [
      'a payload field changed',
      (e: LoggedEvent) => ({ ...e, payload: { ...e.payload, scope: 'db:demo:write' } }),
    ],
    ['another type', (e: LoggedEvent) => ({ ...e, type: 'grant.denied' })],
    ['another time', (e: LoggedEvent) => ({ ...e, at: '2026-01-01T00:00:06.001Z' })],
    ['a member added', (e: LoggedEvent) => ({ ...e, approver: 'the CEO' })],
  ])('when the event shown has %s, then the root check fails', async (_what, tamper) => {
    const verdict = await verifyEventInclusion(evidence(6, { event: tamper(log.events[6]!) }));
    expect(verdict).toMatchObject({ ok: false, failed: 'root_mismatch' });
    expect(verifyInclusionProof(tamper(log.events[6]!) as LoggedEvent, proofFor(log.leaves, 6, 13), cp)).toBe(
      false,
    );
  });

  test('when the event shown claims another leaf index, then the proof does not fit it', async () => {
    const verdict = await verifyEventInclusion(evidence(6, { event: { ...log.events[6]!, leaf_index: 7 } }));
    expect(verdict).toMatchObject({ ok: false, failed: 'proof_shape' });
  });

  test('when the event holds a lone surrogate, then it has no RFC 8785 form and fails by name', async () => {
    const event = { ...log.events[4]!, payload: { note: '\ud800' } };
    expect(await verifyEventInclusion(evidence(4, { event }))).toMatchObject({
      ok: false,
      failed: 'event_encoding',
    });
  });

  const wrongProofs: Array<[string, (p: InclusionProof) => InclusionProof, string]> = [
    [
      'a flipped byte in a path hash',
      (p: InclusionProof) => ({ ...p, audit_path: p.audit_path.map(flipFirst) }),
      'root_mismatch',
    ],
    ['the path of a neighbouring leaf', () => proofFor(log.leaves, 7, 13), 'proof_shape'],
    [
      'the neighbour\u2019s path under this leaf\u2019s index',
      () => ({ ...proofFor(log.leaves, 7, 13), leaf_index: 6 }),
      'root_mismatch',
    ],
    [
      'one hash too many',
      (p: InclusionProof) => ({ ...p, audit_path: [...p.audit_path, p.audit_path[0]!] }),
      'proof_shape',
    ],
    ['one hash too few', (p: InclusionProof) => ({ ...p, audit_path: p.audit_path.slice(1) }), 'proof_shape'],
    ['a path for another tree size', () => proofFor(log.leaves, 6, 12), 'proof_shape'],
    [
      'a hash that is not base64',
      (p: InclusionProof) => ({ ...p, audit_path: ['not base64!', ...p.audit_path.slice(1)] }),
      'proof_shape',
    ],
    [
      'a 31-byte hash',
      (p: InclusionProof) => ({
        ...p,
        audit_path: [Buffer.alloc(31).toString('base64'), ...p.audit_path.slice(1)],
      }),
      'proof_shape',
    ],
  ];
  test.each(wrongProofs.map(([what, wrong, failed]) => ({ what, wrong, failed })))(
    'when the proof has $what, then the $failed check fails',
    async ({ wrong, failed }) => {
      const verdict = await verifyEventInclusion(evidence(6, { proof: wrong(proofFor(log.leaves, 6, 13)) }));
      expect(verdict).toMatchObject({ ok: false, failed });
    },
  );

  test('when the broker gives no proof, or the event is newer than the checkpoint, then it says so by name', async () => {
    expect(await verifyEventInclusion(evidence(6, { proof: undefined }))).toMatchObject({
      ok: false,
      failed: 'proof_shape',
    });
    const older = await sign(signer.key, log.leaves.slice(0, 6));
    expect(await verifyEventInclusion(evidence(6, { checkpoint: older }))).toMatchObject({
      ok: false,
      failed: 'checkpoint_coverage',
      message: expect.stringContaining('latest covers 6 leaves'),
    });
  });
});

describe('the checkpoint behind an inclusion check (its signature, checked in the browser)', () => {
  const log = buildLog(9);
  const proof = proofFor(log.leaves, 3, 9);
  let signer: Awaited<ReturnType<typeof auditKey>>;
  let cp: Checkpoint;
  const check = (checkpoint: Checkpoint, jwks: Evidence['jwks'], p = proof) =>
    verifyEventInclusion({ event: log.events[3]!, checkpoint, jwks, proof: p });
  beforeAll(async () => {
    signer = await auditKey();
    cp = await sign(signer.key, log.leaves);
    expect(await check(cp, signer.jwks)).toMatchObject({ ok: true });
  });

  test('when another key signed it under the published kid, then the signature check fails', async () => {
    const impostor = await auditKey('audit-1');
    const forged = await sign(impostor.key, log.leaves);
    expect(await check(forged, signer.jwks)).toMatchObject({
      ok: false,
      failed: 'checkpoint_signature',
      message: expect.stringContaining('ES256 signature does not verify'),
    });
  });

  test('when the signing key is not in the JWKS as an audit key, then the signature check fails', async () => {
    const other = await auditKey('audit-2');
    const signedByOther = await sign(other.key, log.leaves);
    expect(await check(signedByOther, signer.jwks)).toMatchObject({
      ok: false,
      failed: 'checkpoint_signature',
    });
    // The same key published for tokens (use "sig") may never vouch for a tree head.
    const asTokenKey = { keys: signer.jwks.keys.map((k) => ({ ...k, use: 'sig' })) };
    expect(await check(cp, asTokenKey)).toMatchObject({
      ok: false,
      failed: 'checkpoint_signature',
      message: expect.stringContaining('not signed by an audit key'),
    });
    expect(await check(cp, {})).toMatchObject({ ok: false, failed: 'checkpoint_signature' });
  });

  test('when the tree head shown differs from the signed one, then the signature check fails, even with a proof to match', async () => {
    const bigger = buildLog(10);
    const lie = { ...cp, tree_size: 10, root_hash: mth(bigger.leaves).toString('base64') };
    expect(await check(lie, signer.jwks, proofFor(bigger.leaves, 3, 10))).toMatchObject({
      ok: false,
      failed: 'checkpoint_signature',
      message: expect.stringContaining('differs from the tree size, root or time'),
    });
    expect(await check({ ...cp, timestamp: cp.timestamp + 1 }, signer.jwks)).toMatchObject({
      ok: false,
      failed: 'checkpoint_signature',
    });
  });
});

function flipFirst(hash: string): string {
  const bytes = Buffer.from(hash, 'base64');
  bytes[0]! ^= 0x01;
  return bytes.toString('base64');
}
