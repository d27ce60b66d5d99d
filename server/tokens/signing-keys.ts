import { readFile, stat } from 'node:fs/promises';
import type { JWK } from 'jose';

import type { Logger } from '../shared/logger';
import { type SigningKey, signingKeyFromPem } from './key-material';
import { SigningKeyError } from './token.errors';

export type { SigningKey } from './key-material';

export interface SigningKeys {
  /** Signs every new token. */
  current: SigningKey;
  /** The key being rotated out: published and accepted for verification, never used to sign. */
  previous?: SigningKey;
  /** Public keys only (current first), each with `kid`, `alg` and `use: 'sig'`. A fresh copy per call. */
  jwks(): { keys: JWK[] };
}

export interface LoadSigningKeysOptions {
  /** The key to sign with when no key file is configured (the dev key: server/wiring/dev-defaults). */
  fallbackKey?: () => Promise<SigningKey>;
  /** Production: unencrypted PKCS#8 PEM of a P-256 key. */
  keyFile?: string;
  /** Production, during rotation: the key that signed tokens still in circulation. */
  previousKeyFile?: string;
  logger: Logger;
}

/**
 * Loads the ES256 signing keys once at start-up; any problem throws SigningKeyError so the broker
 * refuses to start rather than run with a key it cannot use. Logs kids and paths, never key material.
 */
export async function loadSigningKeys(opts: LoadSigningKeysOptions): Promise<SigningKeys> {
  const logger = opts.logger;
  if (opts.previousKeyFile && !opts.keyFile) {
    throw new SigningKeyError('a previous signing key file is configured without a current one');
  }
  const current = opts.keyFile
    ? await loadKeyFile(opts.keyFile, logger)
    : opts.fallbackKey
      ? await opts.fallbackKey()
      : missingKeyFile();
  const previous = opts.previousKeyFile ? await loadKeyFile(opts.previousKeyFile, logger) : undefined;
  if (previous && previous.kid === current.kid) {
    throw new SigningKeyError('the previous signing key is the same key as the current one');
  }
  if (opts.keyFile) {
    logger.info({ kid: current.kid, previousKid: previous?.kid }, 'loaded signing keys from files');
  }
  return buildSigningKeys(current, previous);
}

function missingKeyFile(): never {
  throw new SigningKeyError('no signing key file is configured (GRANTLINE_SIGNING_KEY_FILE)');
}

/** Assembles a key set from already-parsed keys (also used by tests). */
export function buildSigningKeys(current: SigningKey, previous?: SigningKey): SigningKeys {
  const published = previous ? [current.publicJwk, previous.publicJwk] : [current.publicJwk];
  return {
    current,
    ...(previous ? { previous } : {}),
    jwks: () => ({ keys: published.map((jwk) => ({ ...jwk })) }),
  };
}

async function loadKeyFile(path: string, logger: Logger): Promise<SigningKey> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SigningKeyError(`cannot read signing key file ${path} (${code})`, cause);
  }
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    // Not fatal: mounted secrets (e.g. Kubernetes defaultMode 0644) are often like this.
    logger.warn(
      { path, mode: (mode & 0o777).toString(8) },
      'signing key file is readable by group or others',
    );
  }
  return signingKeyFromPem(pem, path);
}
