import type { Request, RequestHandler } from 'express';
import { InvalidRequest, Unavailable } from '../shared/errors';
import type { OidcSignIn } from './oidc';
import type { SessionCodec } from './session';
import type { SignIn } from './sign-in';

/** Where a console path may send the browser back to after sign-in: its own pages only. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[A-Za-z0-9/_-]*)?$/.test(value) ? value : '/console/';
}

/**
 * The sign-in endpoints: `login` sends the browser to the identity provider with a fresh transaction
 * (state, nonce, PKCE verifier) sealed in a cookie; `callback` checks and redeems the code and opens
 * the session; `signOut` ends it. Without an identity provider configured, login says so (503).
 */
export function authHandlers(deps: {
  oidc: OidcSignIn | undefined;
  sessions: SessionCodec | undefined;
  signIn: SignIn | undefined;
  redirectUri: string;
}) {
  const configured = () => {
    if (!deps.oidc || !deps.sessions || !deps.signIn)
      throw new Unavailable('console sign-in is not configured: set GRANTLINE_CONSOLE_OIDC_ISSUER');
    return { oidc: deps.oidc, sessions: deps.sessions, signIn: deps.signIn };
  };
  const callbackUrl = (req: Request) => {
    const url = new URL(deps.redirectUri);
    url.search = new URL(req.originalUrl, 'http://localhost').search;
    return url;
  };

  return {
    login: (async (req, res) => {
      const { oidc, sessions } = configured();
      const { url, transaction } = await oidc.start(safeReturnTo(req.query.return_to));
      res.set('Cache-Control', 'no-store').append('Set-Cookie', await sessions.sealLogin(transaction));
      res.redirect(303, url.href);
    }) satisfies RequestHandler,

    callback: (async (req, res) => {
      const { oidc, sessions, signIn } = configured();
      const transaction = await sessions.openLogin(req);
      if (!transaction)
        throw new InvalidRequest('no sign-in in progress in this browser (or it took too long)');
      const human = await oidc.finish(callbackUrl(req), transaction);
      const cookie = await signIn(human, 'oidc');
      res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
      res.append('Set-Cookie', sessions.clearLogin()).append('Set-Cookie', cookie);
      res.redirect(303, transaction.returnTo);
    }) satisfies RequestHandler,

    signOut: ((_req, res) => {
      if (deps.sessions) res.append('Set-Cookie', deps.sessions.clear());
      res.status(204).end();
    }) satisfies RequestHandler,
  };
}
