import { InvalidScope } from '../shared/errors';

/** Scopes only narrow (DESIGN): a hop asks for a non-empty subset of what it was given. */
export function narrowScopes(requested: string[], allowed: string[], what: string): string[] {
  const scopes = [...new Set(requested)].sort();
  if (scopes.length === 0) throw new InvalidScope(`${what} needs at least one scope`);
  const wider = scopes.filter((s) => !allowed.includes(s));
  if (wider.length)
    throw new InvalidScope(`${what} may only narrow: ${wider.join(', ')} not in ${allowed.join(' ')}`, {
      widening: wider,
    });
  return scopes;
}
