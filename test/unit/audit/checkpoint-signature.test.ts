import { CompactSign } from 'jose';
import {
  auditKeyring,
  buildAuditKeys,
  CHECKPOINT_TYP,
  checkCheckpointSignature,
  treeHeadPayload,
} from '../../../server/audit';
import { signTreeHead } from '../../../server/audit/checkpoints/checkpoint-signature';
import { generateSigningKeyPem, signingKeyFromPem } from '../../../server/tokens/key-material';

const root = Buffer.alloc(32, 7);

describe('audit checkpoints (signed tree heads as compact JWS)', () => {
  it('when a tree head is signed, then its payload is the RFC 8785 JSON of exactly {root_hash, timestamp, tree_size}', async () => {
    const key = await signingKeyFromPem(generateSigningKeyPem(), 'k');
    const cp = await signTreeHead(key, { treeSize: 12, rootHash: root, timestamp: 1_764_000_000_123 });
    expect(cp).toMatchObject({
      tree_size: 12,
      root_hash: root.toString('base64'),
      timestamp: 1_764_000_000_123,
    });
    const [header, payload] = cp.signature.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({
      alg: 'ES256',
      kid: key.kid,
      typ: CHECKPOINT_TYP,
    });
    expect(Buffer.from(payload!, 'base64url').toString()).toBe(
      `{"root_hash":"${root.toString('base64')}","timestamp":1764000000123,"tree_size":12}`,
    );
    expect(treeHeadPayload({ treeSize: 12, rootHash: root, timestamp: 1_764_000_000_123 })).toBe(
      Buffer.from(payload!, 'base64url').toString(),
    );
  });

  it('when a checkpoint is checked, then only a genuine one over its own tree head by an audit key passes', async () => {
    const key = await signingKeyFromPem(generateSigningKeyPem(), 'k');
    const keys = buildAuditKeys(key);
    const ring = await auditKeyring(keys.jwks());
    const cp = await signTreeHead(key, { treeSize: 3, rootHash: root, timestamp: 5 });
    expect(await checkCheckpointSignature(cp, ring)).toBeUndefined();
    expect(await checkCheckpointSignature({ ...cp, tree_size: 4 }, ring)).toBe('payload_mismatch');
    expect(
      await checkCheckpointSignature({ ...cp, root_hash: Buffer.alloc(32).toString('base64') }, ring),
    ).toBe('payload_mismatch');
    expect(await checkCheckpointSignature({ ...cp, timestamp: 6 }, ring)).toBe('payload_mismatch');
    const [h, p, sig] = cp.signature.split('.');
    // Another character at the second-to-last place (the last one carries padding bits only in part).
    const changed = sig!.at(-2) === 'A' ? 'B' : 'A';
    const flipped = `${sig!.slice(0, -2)}${changed}${sig!.slice(-1)}`;
    expect(await checkCheckpointSignature({ ...cp, signature: `${h}.${p}.${flipped}` }, ring)).toBe(
      'bad_signature',
    );
    expect(await checkCheckpointSignature({ ...cp, signature: 'not.a.jws' }, ring)).toBe('bad_signature');

    const stranger = await signingKeyFromPem(generateSigningKeyPem(), 's');
    expect(
      await checkCheckpointSignature(
        await signTreeHead(stranger, { treeSize: 3, rootHash: root, timestamp: 5 }),
        ring,
      ),
    ).toBe('unknown_key');
  });

  it('when a JWS over the same tree head lacks the checkpoint typ, then it is not a checkpoint', async () => {
    const key = await signingKeyFromPem(generateSigningKeyPem(), 'k');
    const ring = await auditKeyring(buildAuditKeys(key).jwks());
    const head = { treeSize: 3, rootHash: root, timestamp: 5 };
    const signature = await new CompactSign(new TextEncoder().encode(treeHeadPayload(head)))
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    expect(
      await checkCheckpointSignature(
        { tree_size: 3, root_hash: root.toString('base64'), timestamp: 5, signature },
        ring,
      ),
    ).toBe('unknown_key');
  });

  it('when a keyring is built from a JWKS, then only EC P-256 keys with use "audit" are taken', async () => {
    const audit = await signingKeyFromPem(generateSigningKeyPem(), 'a');
    const token = await signingKeyFromPem(generateSigningKeyPem(), 't');
    const previous = await signingKeyFromPem(generateSigningKeyPem(), 'p');
    const keys = buildAuditKeys(audit, previous);
    expect(keys.jwks().keys.map((k) => [k.kid, k.use])).toEqual([
      [audit.kid, 'audit'],
      [previous.kid, 'audit'],
    ]);
    const ring = await auditKeyring({
      keys: [...keys.jwks().keys, { ...token.publicJwk }, { kty: 'oct', k: 'x', use: 'audit', kid: 'h' }],
    });
    expect([...ring.keys()]).toEqual([audit.kid, previous.kid]);
    expect((await auditKeyring({})).size).toBe(0);
  });
});
