import { randomInt, randomUUID } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` characters drawn uniformly from [A-Za-z0-9] with a CSPRNG. */
export function randomBase62(n: number): string {
  let out = '';
  for (let i = 0; i < n; i += 1) out += BASE62[randomInt(62)];
  return out;
}

/** Service tokens look like OpenBao's: `s.` and 24 base62 characters (Vault's `hvs.` ones are longer). */
export const newTokenId = (): string => `s.${randomBase62(24)}`;

/** Accessors are 24-character base62 strings (spec §2.5). */
export const newAccessor = (): string => randomBase62(24);

/** The random tail of a lease id: `<request path>/<24 base62>` (spec §3.1). */
export const newLeaseSuffix = (): string => randomBase62(24);

export const newRequestId = (): string => randomUUID();
