import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The one list of places a secret could appear in a log line. Every logger in Grantline is a child of
 * the root made here, so this list is the only redaction config there is. Values are replaced, never
 * printed; log ids (grant, task, lease id, accessor, jti) instead of values.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-vault-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-vault-token"]',
  '*.authorization',
  '*.token',
  '*.client_token',
  '*.access_token',
  '*.subject_token',
  '*.actor_token',
  '*.delegation_token',
  '*.password',
  '*.secret',
  '*.svid',
  '*.vaultToken',
  '*.rootToken',
  '*.root_token',
  'token',
  'client_token',
  'access_token',
  'password',
  'secret',
  'svid',
  'vaultToken',
  'rootToken',
  'connection_url',
  '*.connection_url',
  '*.connectionString',
  '*.clientSecret',
  '*.client_secret',
  '*.id_token',
  '*.code_verifier',
  '*.csrf',
  'err.config.headers',
  'err.response.config',
];

export type { Logger };

export function createLogger(
  opts: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: opts.name ?? 'grantline',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
