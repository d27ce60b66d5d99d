import type { ConsoleRole } from '../identity';

export type RoleMap = Partial<Record<ConsoleRole, readonly string[]>>;

/**
 * The console roles an ID token grants: the values of `claim` (a string or an array of strings, as
 * identity providers put groups) that configuration maps to a role. Anything else grants nothing.
 */
export function rolesFromClaims(claims: Record<string, unknown>, claim: string, map: RoleMap): ConsoleRole[] {
  const raw = claims[claim];
  const values =
    typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v) => typeof v === 'string') : [];
  const roles = (Object.entries(map) as Array<[ConsoleRole, readonly string[]]>)
    .filter(([, accepted]) => values.some((v) => accepted.includes(v)))
    .map(([role]) => role);
  return [...new Set(roles)].sort();
}

/** A display name from standard claims (OIDC Core §5.1); the subject when the provider gives none. */
export function displayName(claims: Record<string, unknown>, subject: string): string {
  for (const key of ['name', 'email', 'preferred_username']) {
    const v = claims[key];
    if (typeof v === 'string' && v.length > 0 && v.length <= 200) return v;
  }
  return subject;
}
