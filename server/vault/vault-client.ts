import { readFileSync } from 'node:fs';
import { InternalError } from '../shared/errors';
import type { VaultConfig } from './vault.types';
import { createVaultHttpClient, type RawVaultClient } from './vault-http';

/** Start-up failure: the Vault settings cannot work. Raised once, by the constructor. */
export class VaultConfigInvalid extends InternalError {
  constructor(problem: string) {
    super(`Invalid Vault configuration: ${problem}`);
  }
}

export type { RawVaultClient };

const MAX_RETRIES = 5;

export function validateVaultConfig(config: VaultConfig): void {
  let url: URL;
  try {
    url = new URL(config.addr);
  } catch {
    throw new VaultConfigInvalid('addr is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VaultConfigInvalid('addr must be http(s)');
  }
  if (typeof config.token !== 'string' || config.token.trim() === '') {
    throw new VaultConfigInvalid('token is required');
  }
  if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0) {
    throw new VaultConfigInvalid('timeoutMs must be a positive integer');
  }
  const retries = config.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new VaultConfigInvalid(`retries must be an integer in 0..${MAX_RETRIES}`);
  }
}

const loadPem = (name: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch {
    throw new VaultConfigInvalid(`tls.${name} is neither PEM text nor a readable file`);
  }
};

/**
 * Builds the Vault HTTP client with every ambient default neutralised (specs/vault-api.md §7.3):
 * - no client token at all (not even VAULT_TOKEN from the environment): each call passes its acting token
 *   in per-call headers, so nothing can fall back to, or overwrite, a shared token (pitfalls 1 and 8);
 * - a request timeout (pitfall 6) and explicit TLS verification, whatever VAULT_SKIP_VERIFY says (pitfall 7);
 * - namespace only from config, not VAULT_NAMESPACE; no path prefix;
 * - no debug output of request bodies (database passwords).
 * The client is a lean one over undici (vault-http.ts): node-vault and axios cost more CPU per call than
 * the Vault work of a grant (issue 14's profile).
 */
export function createRawVaultClient(config: VaultConfig): RawVaultClient {
  return createVaultHttpClient(config, {
    strictSSL: config.tls?.skipVerify !== true,
    tls: {
      ...(config.tls?.ca === undefined ? {} : { ca: loadPem('ca', config.tls.ca) }),
      ...(config.tls?.cert === undefined ? {} : { cert: loadPem('cert', config.tls.cert) }),
      ...(config.tls?.key === undefined ? {} : { key: loadPem('key', config.tls.key) }),
    },
  });
}
