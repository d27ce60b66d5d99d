import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { ConsoleKeys } from '../../console/console-keys';
import type { SignIn } from '../../console/sign-in';
import { CONSOLE_ROLES, type ConsoleRole, type HumanPrincipal } from '../../identity';
import type { Clock } from '../../shared/clock';
import { InvalidRequest } from '../../shared/errors';

/** The issuer of dev humans: not a URL, so it can never be mistaken for a real identity provider. */
export const DEV_HUMAN_ISSUER = 'urn:grantline:dev-console';
const LINK_TYPE = 'grantline-dev-sign-in+jwt';
const AUDIENCE = 'grantline-console';
export const DEV_LINK_PATH = '/console/auth/dev';

export interface DevHuman {
  subject: string;
  name: string;
  roles: ConsoleRole[];
}

/**
 * A one-time sign-in link for a dev human, like a notebook server's token link: signed with the console
 * key on this machine, valid for `ttlSeconds`, usable once. Only a broker on the dev trust domain
 * accepts it (whoever can read the dev keys on this disk can already be any workload).
 */
export async function mintDevSignInLink(
  keys: ConsoleKeys,
  q: { baseUrl: string; human: DevHuman; ttlSeconds: number; now: Date },
): Promise<string> {
  const iat = Math.floor(q.now.getTime() / 1000);
  const token = await new SignJWT({ name: q.human.name, roles: q.human.roles })
    .setProtectedHeader({ alg: 'HS256', typ: LINK_TYPE })
    .setSubject(q.human.subject)
    .setAudience(AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + q.ttlSeconds)
    .sign(keys.devLink);
  return `${q.baseUrl.replace(/\/+$/, '')}${DEV_LINK_PATH}?token=${token}`;
}

async function verifyLink(keys: ConsoleKeys, token: string, now: Date) {
  try {
    const { payload } = await jwtVerify(token, keys.devLink, {
      algorithms: ['HS256'],
      typ: LINK_TYPE,
      audience: AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'jti', 'sub'],
    });
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is ConsoleRole => (CONSOLE_ROLES as readonly string[]).includes(r))
      : [];
    const human: HumanPrincipal = {
      kind: 'human',
      issuer: DEV_HUMAN_ISSUER,
      subject: payload.sub!,
      name: typeof payload.name === 'string' ? payload.name : payload.sub!,
      roles,
    };
    return { human, jti: payload.jti!, expiresAt: new Date((payload.exp as number) * 1000) };
  } catch (err) {
    if (err instanceof errors.JOSEError)
      throw new InvalidRequest('the sign-in link is not valid or has expired');
    throw err;
  }
}

/** `GET /console/auth/dev?token=…`: checks the link, uses it up, opens the session, goes to the console. */
export function devSignInHandler(deps: {
  keys: ConsoleKeys;
  clock: Clock;
  consume: (q: { jti: string; expiresAt: Date }) => Promise<boolean>;
  signIn: SignIn;
}): RequestHandler {
  return async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const link = await verifyLink(deps.keys, token, deps.clock.now());
    if (!(await deps.consume({ jti: link.jti, expiresAt: link.expiresAt })))
      throw new InvalidRequest('this sign-in link was used already: run `grantline console` for a new one');
    const cookie = await deps.signIn(link.human, 'dev-link');
    // The token leaves the address bar at once (303), and no Referer carries it anywhere.
    res.set('Referrer-Policy', 'no-referrer').set('Cache-Control', 'no-store');
    res.append('Set-Cookie', cookie).redirect(303, '/console/');
  };
}

/** The link for the broker at `baseUrl`, signed with this machine's console key (the broker's, in dev). */
export async function devSignInLinkFor(
  config: { home: string; console: { sessionKeyFile?: string | undefined } },
  q: { baseUrl: string; human: DevHuman; ttlSeconds: number; now: Date },
): Promise<string> {
  const { readConsoleKeyFile } = await import('../../console/console-keys.js');
  const { devConsoleKeyFile } = await import('./session-key.js');
  const keys = await readConsoleKeyFile(
    config.console.sessionKeyFile ?? (await devConsoleKeyFile(config.home)),
  );
  return mintDevSignInLink(keys, q);
}
