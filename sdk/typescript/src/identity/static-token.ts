import type { IdentitySource } from './identity-source';

/**
 * A fixed JWT-SVID (or any bearer the broker accepts), for scripts and tests. Nothing refreshes it: when it
 * expires, the broker answers 401 and the caller must supply a new one.
 */
export function staticToken(token: string): IdentitySource {
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token.trim())) throw new Error('staticToken needs a compact JWT');
  const value = token.trim();
  return { jwtSvid: async () => value };
}
