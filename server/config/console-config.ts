import { z } from 'zod';
import { parseDurationSeconds } from '../shared/duration';

/** The roles a person can hold in the console (policy gives them meaning: config/policies/*-human.cedar). */
export const CONSOLE_ROLE_NAMES = ['auditor', 'approver'] as const;

const duration = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const seconds = parseDurationSeconds(v);
    if (seconds === undefined || seconds < min || seconds > max) {
      ctx.addIssue({ code: 'custom', message: `a duration between ${min}s and ${max}s` });
      return z.NEVER;
    }
    return seconds;
  });

const claimValue = z.string().min(1).max(256);

/**
 * `GRANTLINE_CONSOLE_ROLE_MAP`: which values of the role claim grant which console role, as JSON, e.g.
 * `{"approver": ["grantline-approvers"], "auditor": ["grantline-auditors", "security"]}`.
 */
const roleMapSchema = z
  .string()
  .transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.partialRecord(z.enum(CONSOLE_ROLE_NAMES), z.array(claimValue).min(1).max(50)));

export const consoleEnvSchema = z.object({
  GRANTLINE_CONSOLE_OIDC_ISSUER: z.string().url().optional(),
  GRANTLINE_CONSOLE_OIDC_CLIENT_ID: z.string().min(1).max(256).optional(),
  /** Unset: a public client (PKCE only). Never logged. */
  GRANTLINE_CONSOLE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  GRANTLINE_CONSOLE_OIDC_SCOPES: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens')
    .default('openid profile email'),
  /** The ID-token claim whose values (a string or an array of strings) are mapped to roles. */
  GRANTLINE_CONSOLE_ROLE_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,128}$/)
    .default('groups'),
  GRANTLINE_CONSOLE_ROLE_MAP: roleMapSchema.optional(),
  /** The console's public base URL (the redirect URI is `<url>/console/auth/callback`). */
  GRANTLINE_CONSOLE_URL: z.string().url().optional(),
  GRANTLINE_CONSOLE_SESSION_TTL: duration(60, 12 * 3600).default(1800),
  /** At least 32 random bytes shared by every replica; unset on a dev machine → generated under home. */
  GRANTLINE_CONSOLE_SESSION_KEY_FILE: z.string().min(1).optional(),
  /** The built console (default: `dist/console` of the package). */
  GRANTLINE_CONSOLE_ASSETS: z.string().min(1).optional(),
});
type ConsoleEnv = z.infer<typeof consoleEnvSchema>;

type Problem = { key: string; problem: string };

export function consoleProblems(env: ConsoleEnv, exposed: boolean): Problem[] {
  const problems: Problem[] = [];
  const issuer = env.GRANTLINE_CONSOLE_OIDC_ISSUER;
  if (Boolean(issuer) !== Boolean(env.GRANTLINE_CONSOLE_OIDC_CLIENT_ID))
    problems.push({
      key: 'GRANTLINE_CONSOLE_OIDC_ISSUER/GRANTLINE_CONSOLE_OIDC_CLIENT_ID',
      problem: 'set both or neither',
    });
  if (issuer && !env.GRANTLINE_CONSOLE_ROLE_MAP)
    problems.push({
      key: 'GRANTLINE_CONSOLE_ROLE_MAP',
      problem: 'required when console sign-in is configured',
    });
  if (issuer && !/^openid( |$)| openid( |$)/.test(env.GRANTLINE_CONSOLE_OIDC_SCOPES))
    problems.push({ key: 'GRANTLINE_CONSOLE_OIDC_SCOPES', problem: 'must include openid' });
  // Replicas must share the key that signs sessions; a generated one is for a single dev machine.
  if (issuer && exposed && !env.GRANTLINE_CONSOLE_SESSION_KEY_FILE)
    problems.push({
      key: 'GRANTLINE_CONSOLE_SESSION_KEY_FILE',
      problem: 'required when listening beyond loopback or with NODE_ENV=production',
    });
  if (issuer && exposed && !env.GRANTLINE_CONSOLE_URL?.startsWith('https://'))
    problems.push({
      key: 'GRANTLINE_CONSOLE_URL',
      problem: 'an https URL is required when listening beyond loopback or with NODE_ENV=production',
    });
  return problems;
}

/** The console's configuration: OIDC sign-in when an issuer is set, sessions, and where the assets are. */
export function consoleSection(env: ConsoleEnv, production: boolean) {
  const issuer = env.GRANTLINE_CONSOLE_OIDC_ISSUER;
  return {
    oidc:
      issuer && env.GRANTLINE_CONSOLE_OIDC_CLIENT_ID
        ? {
            issuer,
            clientId: env.GRANTLINE_CONSOLE_OIDC_CLIENT_ID,
            clientSecret: env.GRANTLINE_CONSOLE_OIDC_CLIENT_SECRET,
            scopes: env.GRANTLINE_CONSOLE_OIDC_SCOPES,
            roleClaim: env.GRANTLINE_CONSOLE_ROLE_CLAIM,
            roleMap: env.GRANTLINE_CONSOLE_ROLE_MAP ?? {},
          }
        : undefined,
    publicUrl: env.GRANTLINE_CONSOLE_URL,
    sessionTtlSeconds: env.GRANTLINE_CONSOLE_SESSION_TTL,
    sessionKeyFile: env.GRANTLINE_CONSOLE_SESSION_KEY_FILE,
    assetsDir: env.GRANTLINE_CONSOLE_ASSETS,
    /** Cookies are `Secure` in production and whenever the console is served over https. */
    secureCookies: production || Boolean(env.GRANTLINE_CONSOLE_URL?.startsWith('https://')),
  };
}
export type ConsoleConfig = ReturnType<typeof consoleSection>;
