import type { Config } from '../config/config';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';

/**
 * The one production file that reaches into `server/dev/`, and only through dynamic imports made when
 * configuration leaves a default unset: production never loads the dev code, and the production image
 * does not ship it (dependency-cruiser checks both).
 */

/** Loads a dev module, or says in one sentence why it cannot: production builds leave server/dev out. */
async function loadDev<T>(load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    // Only the dev module itself missing means "a production build"; anything it fails to load is a bug.
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    if (!missing || !/module '[^']*[\\/]dev[\\/]/.test((err as Error).message)) throw err;
    throw new Error(
      `${what} is a development default and this build does not contain it: configure it (see README, "Production")`,
      { cause: err },
    );
  }
}

/** Creates (or reuses) the dev trust domain under `<home>/dev-identity` and warns that it is in use. */
export async function startDevTrustDomain(home: string, clock: Clock, logger: Logger): Promise<void> {
  const { initDevTrustDomain } = await loadDev(
    () => import('../dev/identity/dev-trust-domain.js'),
    'the dev trust domain (GRANTLINE_TRUST_BUNDLE unset)',
  );
  const dev = await initDevTrustDomain(home, clock);
  logger.warn(
    { trustDomain: dev.trustDomain, dir: dev.dir },
    'DEV TRUST DOMAIN IN USE: SVIDs are checked against spiffe://dev.grantline.local, whose private keys ' +
      'sit on this disk. Anyone who can read them can be any workload. NEVER use this in production: ' +
      'set GRANTLINE_TRUST_BUNDLE and GRANTLINE_TRUST_DOMAIN.',
  );
}

/** The embedded PostgreSQL under `dir` (DATABASE_URL unset). */
export async function startDevDatabase(dir: string, logger: Logger) {
  const { startEmbeddedPostgres } = await loadDev(
    () => import('../dev/postgres/embedded.js'),
    'the embedded PostgreSQL (DATABASE_URL unset)',
  );
  return startEmbeddedPostgres(dir, logger);
}

/** A local Vault (OpenBao dev or the in-process dev Vault) with the demo scopes configured (VAULT_ADDR unset). */
export async function startLocalVault(
  mode: Config['localVault'],
  deps: { logger: Logger; clock: Clock; databaseUrl: string; demoDatabase: string },
) {
  const { connectLocalVault } = await loadDev(
    () => import('../dev/local-vault.js'),
    'the local Vault (VAULT_ADDR unset)',
  );
  return connectLocalVault(mode, deps);
}

/** The development signing key under `<home>/keys/` (GRANTLINE_SIGNING_KEY_FILE unset). */
export async function loadDevSigningKey(home: string, deps: { logger: Logger; clock: Clock }) {
  const { loadOrCreateDevKey } = await loadDev(
    () => import('../dev/signing-key.js'),
    'the dev signing key (GRANTLINE_SIGNING_KEY_FILE unset)',
  );
  return loadOrCreateDevKey(home, deps);
}

/** The console's key file under `<home>/keys/` (GRANTLINE_CONSOLE_SESSION_KEY_FILE unset). */
export async function devConsoleKeyFile(home: string): Promise<string> {
  const { devConsoleKeyFile: make } = await loadDev(
    () => import('../dev/console/session-key.js'),
    'the dev console session key (GRANTLINE_CONSOLE_SESSION_KEY_FILE unset)',
  );
  return make(home);
}

/** The one-time dev sign-in links of `grantline console` (the dev trust domain is in use). */
export async function loadDevSignIn() {
  return loadDev(() => import('../dev/console/dev-sign-in.js'), 'the dev console sign-in');
}

/** The development audit checkpoint key under `<home>/keys/audit-key.pem` (GRANTLINE_AUDIT_KEY_FILE unset). */
export async function loadDevAuditKey(home: string, deps: { logger: Logger; clock: Clock }) {
  const { loadOrCreateDevKey } = await loadDev(
    () => import('../dev/signing-key.js'),
    'the dev audit key (GRANTLINE_AUDIT_KEY_FILE unset)',
  );
  return loadOrCreateDevKey(home, deps, 'audit-key');
}
