import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { type AuditKeys, type AuditSequencer, buildAuditKeys, createAuditSequencer } from '../audit';
import type { Config } from '../config/config';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { TokenIssuer } from '../tokens/access-token';
import { loadSigningKeys } from '../tokens/signing-keys';
import { SigningKeyError } from '../tokens/token.errors';
import { loadDevAuditKey } from './dev-defaults';

/**
 * The ES256 key that signs audit checkpoints, kept like the token signing keys: PKCS#8 files in
 * production (GRANTLINE_AUDIT_KEY_FILE, and GRANTLINE_PREVIOUS_AUDIT_KEY_FILE while rotating), the dev
 * key under `<home>/keys/audit-key.pem` otherwise. It must be a key of its own: a checkpoint signer that
 * could also mint tokens would make every audit reader a token verifier's problem.
 */
export async function loadAuditKeys(
  config: Config,
  deps: { logger: Logger; clock: Clock; tokenKids?: readonly string[] },
): Promise<AuditKeys> {
  const keys = await loadSigningKeys({
    keyFile: config.audit.keyFile,
    previousKeyFile: config.audit.previousKeyFile,
    fallbackKey: () => loadDevAuditKey(config.home, deps),
    logger: deps.logger,
  });
  const audit = [keys.current.kid, keys.previous?.kid];
  if (deps.tokenKids?.some((kid) => audit.includes(kid))) {
    throw new SigningKeyError('the audit checkpoint key must not be the token signing key');
  }
  return buildAuditKeys(keys.current, keys.previous);
}

/**
 * The audit public keys an admin command verifies with, without creating anything: the configured key
 * files, or the dev key if one exists. Undefined when there is none (then pass --jwks).
 */
export async function configuredAuditJwks(
  config: Config,
  logger: Logger,
): Promise<{ keys: JWK[] } | undefined> {
  if (!config.audit.keyFile && !(await exists(join(config.home, 'keys', 'audit-key.pem')))) return undefined;
  return (await loadAuditKeys(config, { logger, clock: { now: () => new Date() } })).jwks();
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface AuditLog {
  keys: AuditKeys;
  sequencer: AuditSequencer;
}

/**
 * The broker's audit log: its checkpoint keys and its sequencer, started at once (every broker runs one;
 * the advisory lock picks the leader); its stop joins the broker's cleanups, ahead of the database's.
 */
export async function startAuditLog(deps: {
  config: Config;
  databaseUrl: string;
  logger: Logger;
  clock: Clock;
  /** The token issuer, whose keys the audit key must not be. */
  tokens: TokenIssuer;
  /** Where the broker collects its shutdown steps: the sequencer's stop goes there. */
  cleanups: Array<() => Promise<void> | void>;
}): Promise<AuditLog> {
  const tokenKids = deps.tokens.jwks().keys.map((k) => k.kid ?? '');
  const keys = await loadAuditKeys(deps.config, { ...deps, tokenKids });
  const sequencer = createAuditSequencer({
    databaseUrl: deps.databaseUrl,
    keys,
    clock: deps.clock,
    logger: deps.logger,
    intervalMs: deps.config.audit.sequencerIntervalMs,
    checkpointIntervalMs: deps.config.audit.checkpointIntervalMs,
  });
  sequencer.start();
  deps.cleanups.push(() => sequencer.stop());
  return { keys, sequencer };
}
