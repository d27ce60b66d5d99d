import { type AuditKeys, auditKeyring, buildAuditKeys, createAuditSequencer } from '../../server/audit';
import { systemClock } from '../../server/shared/clock';
import { createLogger } from '../../server/shared/logger';
import { generateSigningKeyPem, signingKeyFromPem } from '../../server/tokens/key-material';

/** A fresh audit key set (ES256), as the broker loads one, and the keyring a verifier builds from its JWKS. */
export async function testAuditKeys(): Promise<AuditKeys> {
  return buildAuditKeys(await signingKeyFromPem(generateSigningKeyPem(), 'test-audit-key'));
}

export const ringOf = (keys: AuditKeys) => auditKeyring(keys.jwks());

/** A sequencer on `url` driven by hand (runOnce) unless started; logs kept for assertions. */
export function testSequencer(
  url: string,
  keys: AuditKeys,
  opts: { intervalMs?: number; checkpointIntervalMs?: number; lockPollMs?: number; batchSize?: number } = {},
) {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const sequencer = createAuditSequencer({
    databaseUrl: url,
    keys,
    clock: systemClock,
    logger,
    checkpointIntervalMs: 0,
    ...opts,
  });
  return Object.assign(sequencer, { logs });
}
