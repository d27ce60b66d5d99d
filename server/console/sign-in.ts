import type { DomainUnitOfWork } from '../access/unit';
import { actorId, type HumanPrincipal } from '../identity';
import type { SessionCodec } from './session';
import { forgetExpiredLinks, markLinkUsed } from './sign-in-link.repository';

export type SignInVia = 'oidc' | 'dev-link';

/**
 * Opens a console session for a person whose identity was verified (`via`): the sign-in goes on the
 * audit record with the issuer, subject and roles, and the session cookie comes back to set.
 */
export function createSignIn(deps: { uow: DomainUnitOfWork; sessions: SessionCodec }) {
  return async function signIn(human: HumanPrincipal, via: SignInVia): Promise<string> {
    await deps.uow.run({}, async (w) => {
      w.audit({
        type: 'console.signed_in',
        principal: actorId(human),
        payload: { issuer: human.issuer, subject: human.subject, name: human.name, roles: human.roles, via },
      });
    });
    return (await deps.sessions.issue(human)).cookie;
  };
}
export type SignIn = ReturnType<typeof createSignIn>;

/** Uses up a one-time sign-in link; false when it was used already. */
export function consumeSignInLink(
  uow: DomainUnitOfWork,
  q: { jti: string; expiresAt: Date },
): Promise<boolean> {
  return uow.run({}, async (w) => {
    await forgetExpiredLinks(w.tx, w.now);
    return markLinkUsed(w.tx, { ...q, now: w.now });
  });
}
