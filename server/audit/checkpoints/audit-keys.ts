import { type CryptoKey, importJWK, type JWK } from 'jose';

/** An ES256 key that signs checkpoints (structurally the token signing keys' type; loaded the same way). */
export interface AuditSigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: Readonly<JWK>;
}

/** `use` of the audit key in the JWKS: token verifiers (jose) skip any JWK whose `use` is not `sig`. */
export const AUDIT_KEY_USE = 'audit';

export interface AuditKeys {
  /** Signs every new checkpoint. */
  current: AuditSigningKey;
  /** A rotated-out key: still published so older checkpoints verify, never used to sign. */
  previous?: AuditSigningKey;
  /** Public keys for the JWKS, each with `use: "audit"`. A fresh copy per call. */
  jwks(): { keys: JWK[] };
}

export function buildAuditKeys(current: AuditSigningKey, previous?: AuditSigningKey): AuditKeys {
  const published = (previous ? [current, previous] : [current]).map((k) => ({
    ...k.publicJwk,
    use: AUDIT_KEY_USE,
  }));
  return {
    current,
    ...(previous ? { previous } : {}),
    jwks: () => ({ keys: published.map((jwk) => ({ ...jwk })) }),
  };
}

/** The public keys a verifier trusts for checkpoints, by kid. */
export type AuditKeyring = ReadonlyMap<string, CryptoKey>;

/**
 * The checkpoint keys of a JWKS: only EC P-256 entries with `use: "audit"` and a kid, so a token
 * signing key (`use: "sig"`) can never vouch for a tree head. `use` is dropped before import because
 * WebCrypto refuses an ECDSA JWK whose `use` is not `sig`.
 */
export async function auditKeyring(jwks: { keys?: unknown }): Promise<AuditKeyring> {
  const ring = new Map<string, CryptoKey>();
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as JWK[]) : [];
  for (const jwk of keys) {
    if (jwk.use !== AUDIT_KEY_USE || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.kid) continue;
    const { use: _use, key_ops: _ops, ...bare } = jwk;
    ring.set(jwk.kid, (await importJWK(bare, 'ES256')) as CryptoKey);
  }
  return ring;
}
