import { readFileSync } from 'node:fs';
import http from 'node:http';
import nodeVault from 'node-vault';
import { InternalError } from '../shared/errors';
import type { VaultConfig } from './vault.types';

/** Start-up failure: the Vault settings cannot work. Raised once, by the constructor. */
export class VaultConfigInvalid extends InternalError {
  constructor(problem: string) {
    super(`Invalid Vault configuration: ${problem}`);
  }
}

/** The two node-vault calls the adapter uses; per-call options carry the acting token. */
export interface RawVaultClient {
  read(path: string, requestOptions: { headers: Record<string, string> }): Promise<unknown>;
  write(path: string, data: object, requestOptions: { headers: Record<string, string> }): Promise<unknown>;
  list(path: string, requestOptions: { headers: Record<string, string> }): Promise<unknown>;
}

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
 * Builds the node-vault client with every ambient default neutralised (specs/vault-api.md §7.3):
 * - no client token at all (not even VAULT_TOKEN from the environment): each call passes its acting token
 *   in per-call headers, so nothing can fall back to, or overwrite, a shared token (pitfalls 1 and 8);
 * - no `headers` in the construction-time requestOptions (pitfall 8 freezes the first token in them);
 * - a request timeout (pitfall 6) and explicit TLS verification, whatever VAULT_SKIP_VERIFY says (pitfall 7);
 * - namespace and path prefix only from config, not VAULT_NAMESPACE / VAULT_PREFIX;
 * - node-vault's debug output disabled, since it prints request bodies (database passwords).
 */
export function createRawVaultClient(config: VaultConfig): RawVaultClient {
  const strictSSL = config.tls?.skipVerify !== true;
  const tls = {
    ...(config.tls?.ca === undefined ? {} : { ca: loadPem('ca', config.tls.ca) }),
    ...(config.tls?.cert === undefined ? {} : { cert: loadPem('cert', config.tls.cert) }),
    ...(config.tls?.key === undefined ? {} : { key: loadPem('key', config.tls.key) }),
  };
  const options = {
    endpoint: config.addr,
    apiVersion: 'v1',
    // Keep-alive: without it every Vault call pays a new TCP (and TLS) handshake; a grant makes several.
    requestOptions: {
      timeout: config.timeoutMs,
      strictSSL,
      ...tls,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      agentOptions: { keepAlive: true, maxSockets: 64 },
    },
    rpDefaults: { strictSSL },
    debug: () => undefined,
    // LIST as `GET …?list=1`: Node's HTTP stack (the dev Vault) refuses custom verbs; Vault takes both.
    noCustomHTTPVerbs: true,
  };
  const client = nodeVault(options as nodeVault.VaultOptions);
  const mutable = client as unknown as Record<string, unknown>;
  mutable.token = '';
  mutable.namespace = config.namespace ?? '';
  mutable.pathPrefix = '';
  return client as unknown as RawVaultClient;
}
