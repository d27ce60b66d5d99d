import { z } from 'zod';
import { parseDurationSeconds } from '../shared/duration';
import { consoleEnvSchema } from './console-config';

const port = z.coerce.number().int().min(0).max(65535);
const boolFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
const duration = z.string().transform((v, ctx) => {
  const seconds = parseDurationSeconds(v);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'not a duration like 90s, 5m or 1h' });
    return z.NEVER;
  }
  return seconds;
});
const url = z.string().url();
const nonEmpty = z.string().min(1);

/**
 * Every environment variable Grantline reads. Defaults are the embedded, local-only developer setup;
 * no secret (VAULT_TOKEN, key files) has a default.
 */
export const envSchema = z.object({
  ...consoleEnvSchema.shape,
  GRANTLINE_HOST: nonEmpty.default('127.0.0.1'),
  GRANTLINE_PORT: port.default(8080),
  /** The operator listener (`/metrics`, `/healthz`, `/readyz`); default loopback, GRANTLINE_PORT + 1. */
  GRANTLINE_OPERATOR_HOST: nonEmpty.default('127.0.0.1'),
  GRANTLINE_OPERATOR_PORT: port.optional(),
  GRANTLINE_HOME: nonEmpty.optional(),
  GRANTLINE_CONFIG_DIR: nonEmpty.optional(),
  GRANTLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRANTLINE_ISSUER: url.optional(),
  GRANTLINE_AUDIENCE: nonEmpty.default('grantline'),
  GRANTLINE_TRUST_DOMAIN: nonEmpty.optional(),
  GRANTLINE_TRUST_BUNDLE: nonEmpty.optional(),
  /** Where our trust bundles come from: a bundle file/URL, or the SPIFFE Workload API (follows rotation). */
  GRANTLINE_TRUST_SOURCE: z.enum(['bundle', 'workload-api']).optional(),
  SPIFFE_ENDPOINT_SOCKET: nonEmpty.optional(),
  /** Which of the broker's own identities to use when the Workload API gives it several. */
  GRANTLINE_SPIFFE_ID: nonEmpty.optional(),
  /** Serve the mTLS listener with the broker's own X509-SVID from the Workload API (rotating with it). */
  GRANTLINE_TLS_SVID: boolFlag.default(false),
  GRANTLINE_SVID_MAX_LIFETIME: duration.default(3600),
  GRANTLINE_SVID_LEEWAY: duration.default(30),
  /** JWT-SVIDs naming several audiences can be replayed between them: refused unless this is `true`. */
  GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE: boolFlag.default(false),
  GRANTLINE_TLS_CERT: nonEmpty.optional(),
  GRANTLINE_TLS_KEY: nonEmpty.optional(),
  GRANTLINE_TLS_PORT: port.default(8443),
  GRANTLINE_SIGNING_KEY_FILE: nonEmpty.optional(),
  GRANTLINE_PREVIOUS_SIGNING_KEY_FILE: nonEmpty.optional(),
  GRANTLINE_AUDIT_KEY_FILE: nonEmpty.optional(),
  GRANTLINE_PREVIOUS_AUDIT_KEY_FILE: nonEmpty.optional(),
  GRANTLINE_AUDIT_SEQUENCER_INTERVAL_MS: z.coerce.number().int().min(10).max(60000).default(100),
  GRANTLINE_AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).max(60000).default(500),
  GRANTLINE_ACCESS_TOKEN_TTL: duration.default(300),
  GRANTLINE_ACCESS_TOKEN_MAX_TTL: duration.default(3600),
  GRANTLINE_SHUTDOWN_GRACE: duration.default(10),
  GRANTLINE_WORKER_INTERVAL_MS: z.coerce.number().int().min(10).max(600000).default(1000),
  GRANTLINE_REVOCATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(20),
  /** How often reconciliation compares Vault and the database targets with the grants (0 = never). */
  GRANTLINE_RECONCILE_INTERVAL: duration.default(60),
  /** Logins on a database target that Grantline's grants get (Vault's default username template). */
  GRANTLINE_RECONCILE_LOGIN_PATTERN: z
    .string()
    .max(200)
    .refine((v) => {
      try {
        new RegExp(v);
        return true;
      } catch {
        return false;
      }
    }, 'not a regular expression')
    .default('^v-token-gr-'),
  /** How long an asynchronous approval request waits for an approver before it expires. */
  GRANTLINE_APPROVAL_REQUEST_TTL: duration.default(900),
  DATABASE_URL: url.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Without VAULT_ADDR: `auto` runs OpenBao (`bao server -dev`) when installed, else the dev Vault. */
  GRANTLINE_VAULT: z.enum(['auto', 'dev', 'bao']).default('auto'),
  /**
   * Admin connections to the PostgreSQL databases whose logins Vault mints, by target name (JSON object):
   * the broker locks a revoked login out itself and proves it dead. A scope names its target.
   */
  GRANTLINE_DB_TARGETS: z
    .string()
    .transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(
      z.record(
        z.string().regex(/^[a-z0-9_-]{1,64}$/),
        z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
      ),
    )
    .optional(),
  VAULT_ADDR: url.optional(),
  VAULT_TOKEN: nonEmpty.optional(),
  VAULT_NAMESPACE: nonEmpty.optional(),
  VAULT_TIMEOUT: duration.default(5),
  VAULT_CACERT: nonEmpty.optional(),
  VAULT_CLIENT_CERT: nonEmpty.optional(),
  VAULT_CLIENT_KEY: nonEmpty.optional(),
  VAULT_SKIP_VERIFY: boolFlag.default(false),
  /** The embedded PostgreSQL, dev Vault and dev trust domain on a non-loopback address or in production. */
  GRANTLINE_ALLOW_DEV: boolFlag.default(false),
  NODE_ENV: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;
