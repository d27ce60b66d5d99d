import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse, serialize } from 'cookie';
import { EncryptJWT, errors, jwtDecrypt, jwtVerify, SignJWT } from 'jose';
import { CONSOLE_ROLES, type ConsoleRole, type HumanPrincipal } from '../identity';
import type { Clock } from '../shared/clock';
import type { ConsoleKeys } from './console-keys';

const SESSION_TYPE = 'grantline-console-session+jwt';
const AUDIENCE = 'grantline-console';
/** How long a sign-in at the identity provider may take. */
const LOGIN_TTL_SECONDS = 600;

export interface Session {
  human: HumanPrincipal;
  /** The synchronizer token every state-changing request must echo (OWASP CSRF cheat sheet). */
  csrf: string;
  expiresAt: Date;
}

/** What the browser carries between the redirect to the identity provider and the callback. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export interface SessionOptions {
  keys: ConsoleKeys;
  ttlSeconds: number;
  secure: boolean;
  clock: Clock;
}

/**
 * Session cookies: a short HS256 JWT naming the person, their roles and a CSRF token; HttpOnly,
 * SameSite=Strict, Secure (and `__Host-`, RFC 6265bis §4.1.3.2) in production. The login transaction
 * cookie is encrypted (it holds the PKCE verifier) and SameSite=Lax: it must come back on the identity
 * provider's top-level redirect to the callback, which Strict would drop.
 */
export function createSessionCodec(opts: SessionOptions) {
  const prefix = opts.secure ? '__Host-' : '';
  const sessionName = `${prefix}grantline-console`;
  const loginName = `${prefix}grantline-console-login`;
  const base = { httpOnly: true, secure: opts.secure, path: '/' } as const;
  const nowSeconds = () => Math.floor(opts.clock.now().getTime() / 1000);
  const cookies = (req: IncomingMessage) => parse(req.headers.cookie ?? '');

  return {
    async issue(human: HumanPrincipal): Promise<{ cookie: string; session: Session }> {
      const csrf = randomBytes(32).toString('base64url');
      const exp = nowSeconds() + opts.ttlSeconds;
      const jwt = await new SignJWT({ human, csrf })
        .setProtectedHeader({ alg: 'HS256', typ: SESSION_TYPE })
        .setAudience(AUDIENCE)
        .setIssuedAt(nowSeconds())
        .setExpirationTime(exp)
        .sign(opts.keys.session);
      const cookie = serialize(sessionName, jwt, { ...base, sameSite: 'strict', maxAge: opts.ttlSeconds });
      return { cookie, session: { human, csrf, expiresAt: new Date(exp * 1000) } };
    },

    /** The session the request carries, or undefined when it has none that is valid now. */
    async read(req: IncomingMessage): Promise<Session | undefined> {
      const jwt = cookies(req)[sessionName];
      if (!jwt) return undefined;
      try {
        const { payload } = await jwtVerify(jwt, opts.keys.session, {
          algorithms: ['HS256'],
          typ: SESSION_TYPE,
          audience: AUDIENCE,
          currentDate: opts.clock.now(),
          requiredClaims: ['exp'],
        });
        const human = sessionHuman(payload.human);
        if (!human || typeof payload.csrf !== 'string') return undefined;
        return { human, csrf: payload.csrf, expiresAt: new Date((payload.exp as number) * 1000) };
      } catch (err) {
        if (err instanceof errors.JOSEError) return undefined;
        throw err;
      }
    },

    clear: () => serialize(sessionName, '', { ...base, sameSite: 'strict', maxAge: 0 }),

    async sealLogin(tx: LoginTransaction): Promise<string> {
      const jwe = await new EncryptJWT({ ...tx })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setAudience(AUDIENCE)
        .setExpirationTime(nowSeconds() + LOGIN_TTL_SECONDS)
        .encrypt(opts.keys.login);
      return serialize(loginName, jwe, { ...base, sameSite: 'lax', maxAge: LOGIN_TTL_SECONDS });
    },

    async openLogin(req: IncomingMessage): Promise<LoginTransaction | undefined> {
      const jwe = cookies(req)[loginName];
      if (!jwe) return undefined;
      try {
        const { payload } = await jwtDecrypt(jwe, opts.keys.login, {
          audience: AUDIENCE,
          currentDate: opts.clock.now(),
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        const { state, nonce, codeVerifier, returnTo } = payload as Partial<LoginTransaction>;
        if (![state, nonce, codeVerifier, returnTo].every((v) => typeof v === 'string')) return undefined;
        return { state, nonce, codeVerifier, returnTo } as LoginTransaction;
      } catch (err) {
        if (err instanceof errors.JOSEError) return undefined;
        throw err;
      }
    },

    clearLogin: () => serialize(loginName, '', { ...base, sameSite: 'lax', maxAge: 0 }),
  };
}
export type SessionCodec = ReturnType<typeof createSessionCodec>;

/** A signed payload is still checked for shape: a key rotation bug must not mint a principal. */
function sessionHuman(value: unknown): HumanPrincipal | undefined {
  const h = value as Partial<HumanPrincipal> | undefined;
  if (h?.kind !== 'human' || typeof h.issuer !== 'string' || typeof h.subject !== 'string') return undefined;
  if (typeof h.name !== 'string' || !Array.isArray(h.roles)) return undefined;
  const roles = h.roles.filter((r): r is ConsoleRole => (CONSOLE_ROLES as readonly string[]).includes(r));
  return { kind: 'human', issuer: h.issuer, subject: h.subject, name: h.name, roles };
}
