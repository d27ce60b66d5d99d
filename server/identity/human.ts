import type { Principal } from './identity.types';

/** The roles a person may hold in the console, mapped from an ID-token claim by configuration. */
export const CONSOLE_ROLES = ['auditor', 'approver'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/**
 * A person signed in to the console: verified by the OpenID provider (`issuer`, `subject` of the ID
 * token, OIDC Core §2) or, on a developer's machine, by a one-time sign-in link.
 */
export interface HumanPrincipal {
  kind: 'human';
  issuer: string;
  subject: string;
  /** A display name from the ID token (`name`, `email` or `preferred_username`); never an identifier. */
  name: string;
  roles: ConsoleRole[];
}

/** Whoever acts on the broker: a SPIFFE workload or a person. */
export type Actor = Principal | HumanPrincipal;

export const isHuman = (a: Actor): a is HumanPrincipal => 'kind' in a && a.kind === 'human';

/**
 * The one string that names an actor in the audit log and on records: the SPIFFE ID of a workload, or
 * `<issuer>#<subject>` for a person (an issuer URL carries no fragment, OIDC Discovery §3).
 */
export function actorId(a: Actor): string {
  return isHuman(a) ? `${a.issuer}#${a.subject}` : a.spiffeId;
}
