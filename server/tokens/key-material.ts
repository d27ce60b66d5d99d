import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, importPKCS8, type JWK } from 'jose';
import { SigningKeyError } from './token.errors';

export const SIGNING_ALG = 'ES256';

/** One signing key. `privateKey` is a non-extractable CryptoKey: once loaded it cannot be exported. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** Public members only, with `kid`, `alg` and `use: 'sig'`, ready for the JWKS. */
  publicJwk: Readonly<JWK>;
}

const PKCS8_LABEL = /^-----BEGIN PRIVATE KEY-----\r?\n/;

/** A fresh P-256 key as an unencrypted PKCS#8 PEM (dev only; production keys come from files). */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/**
 * Parses an unencrypted PKCS#8 PEM holding a P-256 key. `source` names the key in errors (a path,
 * never contents). The kid is the RFC 7638 thumbprint, so the same key always has the same kid.
 */
export async function signingKeyFromPem(pem: string, source: string): Promise<SigningKey> {
  const keyObject = parseP256PrivateKey(pem, source);
  const { kty, crv, x, y } = createPublicKey(keyObject).export({ format: 'jwk' });
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y) {
    throw new SigningKeyError(`${source}: could not derive a P-256 public key`);
  }
  const kid = await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
  const privateKey = await importPKCS8(pem.trim(), SIGNING_ALG, { extractable: false });
  const publicJwk = Object.freeze({ kty, crv, x, y, kid, alg: SIGNING_ALG, use: 'sig' });
  return { kid, privateKey, publicJwk };
}

function parseP256PrivateKey(pem: string, source: string): KeyObject {
  const text = pem.trimStart();
  if (!PKCS8_LABEL.test(text)) {
    throw new SigningKeyError(
      `${source}: expected an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"); convert with ` +
        '`openssl pkcs8 -topk8 -nocrypt -in <key> -out <key.pem>`',
    );
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: text, format: 'pem' });
  } catch (cause) {
    throw new SigningKeyError(`${source}: not a readable private key`, cause);
  }
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  if (keyObject.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new SigningKeyError(
      `${source}: expected an EC P-256 key for ES256, got ${keyObject.asymmetricKeyType ?? 'unknown'}` +
        (curve ? ` (${curve})` : ''),
    );
  }
  return keyObject;
}
