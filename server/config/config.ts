import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config.errors';
import { consoleProblems, consoleSection } from './console-config';
import { type Env, envSchema } from './env.schema';
import { grantlineHome } from './home';
import { identitySourceProblems, trustSourceOf } from './identity-source';
import { isExposed, listenerProblems, operatorPort, type Problem } from './listener-rules';

export interface FederatedDomain {
  trustDomain: string;
  source: string;
  refreshHintSeconds?: number;
  httpsSpiffe?: { endpointSpiffeId: string; bootstrapBundle: string };
}

/** The configuration type is what `build` makes of the parsed environment: derived, never restated. */
export type Config = ReturnType<typeof build>;

const federationSchema = z.array(
  z
    .strictObject({
      trust_domain: z.string().min(1),
      bundle_endpoint: z.string().min(1),
      refresh_hint: z.number().int().positive().optional(),
      /** `https_web` (default: Web PKI) or `https_spiffe` (the endpoint presents an X509-SVID). */
      bundle_endpoint_profile: z.enum(['https_web', 'https_spiffe']).optional(),
      endpoint_spiffe_id: z.string().min(1).optional(),
      bootstrap_bundle: z.string().min(1).optional(),
    })
    .refine(
      (f) => f.bundle_endpoint_profile !== 'https_spiffe' || (f.endpoint_spiffe_id && f.bootstrap_bundle),
      {
        message: 'https_spiffe needs endpoint_spiffe_id and bootstrap_bundle',
      },
    ),
);

function issuesToProblems(issues: z.core.$ZodIssue[], prefix = ''): Problem[] {
  return issues.map((issue) => ({
    key: `${prefix}${issue.path.map(String).join('.')}` || prefix.replace(/[.:]$/, ''),
    problem: issue.message,
  }));
}

function crossFieldProblems(env: Env): Problem[] {
  const problems: Problem[] = [];
  if (env.VAULT_ADDR && !env.VAULT_TOKEN)
    problems.push({ key: 'VAULT_TOKEN', problem: 'required when VAULT_ADDR is set' });
  if (env.VAULT_TOKEN && !env.VAULT_ADDR)
    problems.push({ key: 'VAULT_ADDR', problem: 'required when VAULT_TOKEN is set' });
  if (Boolean(env.GRANTLINE_TLS_CERT) !== Boolean(env.GRANTLINE_TLS_KEY)) {
    problems.push({ key: 'GRANTLINE_TLS_CERT/GRANTLINE_TLS_KEY', problem: 'set both or neither' });
  }
  if (env.GRANTLINE_ACCESS_TOKEN_TTL > env.GRANTLINE_ACCESS_TOKEN_MAX_TTL) {
    problems.push({
      key: 'GRANTLINE_ACCESS_TOKEN_TTL',
      problem: 'greater than GRANTLINE_ACCESS_TOKEN_MAX_TTL',
    });
  }
  const devDefaults = [
    !env.DATABASE_URL && 'DATABASE_URL',
    !env.VAULT_ADDR && 'VAULT_ADDR',
    trustSourceOf(env) === 'dev' && 'GRANTLINE_TRUST_BUNDLE',
  ].filter((k): k is string => Boolean(k));
  const exposed = isExposed(env);
  // The dev defaults hold every key on local disk (anyone who reads them is any workload) and a dev Vault
  // whose root token sits in memory: never let a deployment fall back to them by leaving a variable out.
  problems.push(...consoleProblems(env, exposed));
  if (devDefaults.length > 0 && exposed && !env.GRANTLINE_ALLOW_DEV) {
    problems.push({
      key: devDefaults.join('/'),
      problem:
        'required when listening beyond loopback or with NODE_ENV=production (set GRANTLINE_ALLOW_DEV=true to run the dev defaults anyway)',
    });
  }
  problems.push(...identitySourceProblems(env));
  if (env.GRANTLINE_PREVIOUS_AUDIT_KEY_FILE && !env.GRANTLINE_AUDIT_KEY_FILE) {
    problems.push({
      key: 'GRANTLINE_AUDIT_KEY_FILE',
      problem: 'required when GRANTLINE_PREVIOUS_AUDIT_KEY_FILE is set',
    });
  }
  if (env.GRANTLINE_AUDIT_KEY_FILE && env.GRANTLINE_AUDIT_KEY_FILE === env.GRANTLINE_SIGNING_KEY_FILE) {
    problems.push({ key: 'GRANTLINE_AUDIT_KEY_FILE', problem: 'must not be the token signing key file' });
  }
  if (env.GRANTLINE_TRUST_BUNDLE && !env.GRANTLINE_TRUST_DOMAIN) {
    problems.push({ key: 'GRANTLINE_TRUST_DOMAIN', problem: 'required when GRANTLINE_TRUST_BUNDLE is set' });
  }
  problems.push(...listenerProblems(env));
  return problems;
}

function loadFederation(configDir: string): { federation: FederatedDomain[]; problems: Problem[] } {
  const file = path.join(configDir, 'federation.json');
  if (!fs.existsSync(file)) return { federation: [], problems: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return { federation: [], problems: [{ key: 'config/federation.json', problem: 'not valid JSON' }] };
  }
  const parsed = federationSchema.safeParse(raw);
  if (!parsed.success)
    return { federation: [], problems: issuesToProblems(parsed.error.issues, 'config/federation.json:') };
  return {
    federation: parsed.data.map((f) => ({
      trustDomain: f.trust_domain,
      source: f.bundle_endpoint,
      ...(f.refresh_hint ? { refreshHintSeconds: f.refresh_hint } : {}),
      ...(f.bundle_endpoint_profile === 'https_spiffe'
        ? {
            httpsSpiffe: {
              endpointSpiffeId: f.endpoint_spiffe_id!,
              bootstrapBundle: path.resolve(configDir, f.bootstrap_bundle!),
            },
          }
        : {}),
    })),
    problems: [],
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function httpSection(env: Env) {
  return {
    host: env.GRANTLINE_HOST,
    port: env.GRANTLINE_PORT,
    shutdownGraceSeconds: env.GRANTLINE_SHUTDOWN_GRACE,
    ...(env.GRANTLINE_TLS_CERT && env.GRANTLINE_TLS_KEY
      ? {
          tls: {
            certFile: env.GRANTLINE_TLS_CERT,
            keyFile: env.GRANTLINE_TLS_KEY,
            port: env.GRANTLINE_TLS_PORT,
          },
        }
      : {}),
    ...(env.GRANTLINE_TLS_SVID ? { tlsFromSvid: { port: env.GRANTLINE_TLS_PORT } } : {}),
  } as {
    host: string;
    port: number;
    shutdownGraceSeconds: number;
    tls?: { certFile: string; keyFile: string; port: number };
    /** The mTLS listener serves the broker's X509-SVID from the Workload API (GRANTLINE_TLS_SVID). */
    tlsFromSvid?: { port: number };
  };
}

/** unset → the in-process dev Vault. */
function vaultSection(env: Env) {
  if (!env.VAULT_ADDR || !env.VAULT_TOKEN) return undefined;
  return {
    addr: env.VAULT_ADDR,
    token: env.VAULT_TOKEN,
    namespace: env.VAULT_NAMESPACE,
    timeoutMs: env.VAULT_TIMEOUT * 1000,
    tls: {
      ...(env.VAULT_CACERT ? { caFile: env.VAULT_CACERT } : {}),
      ...(env.VAULT_CLIENT_CERT ? { certFile: env.VAULT_CLIENT_CERT } : {}),
      ...(env.VAULT_CLIENT_KEY ? { keyFile: env.VAULT_CLIENT_KEY } : {}),
      skipVerify: env.VAULT_SKIP_VERIFY,
    } as { caFile?: string; certFile?: string; keyFile?: string; skipVerify: boolean },
  };
}

function build(env: Env, configDir: string, federation: FederatedDomain[], envRaw: NodeJS.ProcessEnv) {
  return {
    home: grantlineHome(envRaw),
    configDir,
    logLevel: env.GRANTLINE_LOG_LEVEL,
    http: httpSection(env),
    /** The operator listener: `/metrics` (never on the API listener), `/healthz`, `/readyz`. */
    operator: { host: env.GRANTLINE_OPERATOR_HOST, port: operatorPort(env) },
    /** The `iss` of access tokens; defaults to the broker's own URL. */
    issuer: env.GRANTLINE_ISSUER,
    /** `url` unset → the embedded PostgreSQL under `<home>/pg`. */
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX },
    localVault: env.GRANTLINE_VAULT,
    vault: vaultSection(env),
    identity: {
      trustDomain: env.GRANTLINE_TRUST_DOMAIN,
      audience: env.GRANTLINE_AUDIENCE,
      bundleSource: env.GRANTLINE_TRUST_BUNDLE,
      source: trustSourceOf(env),
      workloadApi:
        trustSourceOf(env) === 'workload-api' && env.SPIFFE_ENDPOINT_SOCKET
          ? { address: env.SPIFFE_ENDPOINT_SOCKET, spiffeId: env.GRANTLINE_SPIFFE_ID }
          : undefined,
      federation,
      maxSvidLifetimeSeconds: env.GRANTLINE_SVID_MAX_LIFETIME,
      leewaySeconds: env.GRANTLINE_SVID_LEEWAY,
      allowMultiAudience: env.GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE,
    },
    tokens: {
      signingKeyFile: env.GRANTLINE_SIGNING_KEY_FILE,
      previousSigningKeyFile: env.GRANTLINE_PREVIOUS_SIGNING_KEY_FILE,
      defaultTtlSeconds: env.GRANTLINE_ACCESS_TOKEN_TTL,
      maxTtlSeconds: env.GRANTLINE_ACCESS_TOKEN_MAX_TTL,
    },
    revocation: {
      intervalMs: env.GRANTLINE_WORKER_INTERVAL_MS,
      maxAttempts: env.GRANTLINE_REVOCATION_MAX_ATTEMPTS,
      /** Admin URLs of the databases whose logins Vault mints (never logged). */
      databaseTargets: (env.GRANTLINE_DB_TARGETS ?? {}) as Record<string, string>,
      reconcileIntervalSeconds: env.GRANTLINE_RECONCILE_INTERVAL,
      reconcileLoginPattern: env.GRANTLINE_RECONCILE_LOGIN_PATTERN,
    },
    /** The transparency log: its checkpoint key (unset → the dev key under home) and sequencer pace. */
    audit: {
      keyFile: env.GRANTLINE_AUDIT_KEY_FILE,
      previousKeyFile: env.GRANTLINE_PREVIOUS_AUDIT_KEY_FILE,
      sequencerIntervalMs: env.GRANTLINE_AUDIT_SEQUENCER_INTERVAL_MS,
      checkpointIntervalMs: env.GRANTLINE_AUDIT_CHECKPOINT_INTERVAL_MS,
    },
    approvals: { requestTtlSeconds: env.GRANTLINE_APPROVAL_REQUEST_TTL },
    console: consoleSection(env, env.NODE_ENV === 'production'),
  };
}

/**
 * Parses the environment and the files under `config/` once, at start-up. Throws ConfigError naming
 * every bad key; the returned object is deeply frozen and passed down, never re-read.
 */
export function loadConfig(envRaw: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most shells' `FOO= cmd` idiom.
  const cleaned = Object.fromEntries(Object.entries(envRaw).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: Problem[] = parsed.success
    ? crossFieldProblems(parsed.data)
    : issuesToProblems(parsed.error.issues);
  const configDir = path.resolve(cleaned.GRANTLINE_CONFIG_DIR ?? findConfigDir());
  const { federation, problems: fileProblems } = loadFederation(configDir);
  problems.push(...fileProblems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(build(parsed.data, configDir, federation, cleaned));
}

/** `config/` sits at the package root, both when running from source (ts) and from `dist/`. */
function findConfigDir(): string {
  for (const up of ['..', '../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'config');
    if (
      fs.existsSync(path.join(candidate, 'scopes.json')) ||
      fs.existsSync(path.join(candidate, 'policies'))
    ) {
      return candidate;
    }
  }
  return path.resolve('config');
}
