import { randomInt } from 'node:crypto';
import { randomBase62 } from './random-ids';

/**
 * Vault's default username template (spec §4):
 * `v-<display name, 8>-<role name, 8>-<20 random alphanumerics>-<unix time>`, truncated to 63 characters
 * (PostgreSQL's identifier limit).
 */
export function generateUsername(displayName: string, roleName: string, nowMs: number): string {
  const unix = Math.floor(nowMs / 1000);
  return `v-${displayName.slice(0, 8)}-${roleName.slice(0, 8)}-${randomBase62(20)}-${unix}`.slice(0, 63);
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const CHARSET = `${LOWER}${UPPER}${DIGITS}-`;

/**
 * Vault's default password policy (spec §4): 20 characters from [a-zA-Z0-9-] with at least one of each
 * class. Drawn with a CSPRNG and redrawn until every class is present.
 */
export function generatePassword(length = 20): string {
  for (;;) {
    let p = '';
    for (let i = 0; i < length; i += 1) p += CHARSET[randomInt(CHARSET.length)];
    if (/[a-z]/.test(p) && /[A-Z]/.test(p) && /[0-9]/.test(p) && p.includes('-')) return p;
  }
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Go's `2006-01-02 15:04:05-0700`, in UTC, as the `{{expiration}}` template value (spec §4). */
export function formatExpiration(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000`;
}

export interface StatementVars {
  name: string;
  password?: string;
  expiration?: string;
}

/** `{{name}}` (alias `{{username}}`), `{{password}}`, `{{expiration}}`; unknown placeholders stay as they are. */
export function renderStatement(statement: string, vars: StatementVars): string {
  return statement.replace(/\{\{\s*(name|username|password|expiration)\s*\}\}/g, (whole, key: string) => {
    if (key === 'name' || key === 'username') return vars.name;
    const value = key === 'password' ? vars.password : vars.expiration;
    return value ?? whole;
  });
}

/** Vault's `StrListContainsGlob` for `allowed_roles`: `*` matches any run of characters. */
export function roleAllowed(allowedRoles: string[], role: string): boolean {
  return allowedRoles.some((pattern) => {
    const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    return re.test(role);
  });
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
