import { AuditEventRejected } from './audit.errors';
import type { AuditEventInput } from './audit.types';
import { CanonicalJsonError, canonicalJson } from './canonical-json';

// No secret value is ever stored in Postgres (DESIGN "Rules that must hold"); the audit log cannot be
// redacted later, so refuse the obvious mistakes at the door. Keys are compared after lower-casing and
// dropping `_`/`-`, so `accessToken`, `access_token` and `Access-Token` are one name. Exact names only:
// `token_accessor` and `lease_id` are what the log is supposed to hold.
const SECRET_KEYS = new Set([
  'password',
  'passwd',
  'secret',
  'secrets',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'clienttoken',
  'vaulttoken',
  'subjecttoken',
  'actortoken',
  'svid',
  'jwtsvid',
  'privatekey',
  'apikey',
  'authorization',
]);

// Values shaped like a Vault token (`hvs.`, `hvb.`, `hvr.`), an OpenBao (or pre-1.10 Vault) token
// (`s.`, `b.`, `r.` and 24+ base62 characters, the whole value) or a compact JWS (a JWT, a JWT-SVID).
const SECRET_VALUES = [
  /^hv[sbr]\.[A-Za-z0-9_-]{20,}/,
  /^[sbr]\.[A-Za-z0-9]{24,}$/,
  /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/,
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;
const MAX_PRINCIPAL = 2048;
const MAX_DEPTH = 32;

export const normaliseSecretKey = (key: string): string => key.toLowerCase().replace(/[_-]/g, '');

/** Whether a caller-supplied key or value would be refused by the audit log as secret-like. */
export const looksSecret = (key: string, value?: unknown): boolean =>
  SECRET_KEYS.has(normaliseSecretKey(key)) ||
  (typeof value === 'string' && SECRET_VALUES.some((re) => re.test(value)));

export interface CheckedEvent {
  type: string;
  taskId: string | null;
  grantId: string | null;
  principal: string | null;
  /** The payload's canonical JSON: stored as is, so what is read back hashes to the same text. */
  payloadJson: string;
}

/** Validates and normalises one event; throws AuditEventRejected naming the field, never the value. */
export function checkAuditEvent(event: AuditEventInput): CheckedEvent {
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) {
    throw new AuditEventRejected('audit event type must match [A-Za-z][A-Za-z0-9_.:-]{0,99}');
  }
  return {
    type: event.type,
    // PostgreSQL returns uuids in lower case; hashing the caller's spelling would break the chain on read.
    taskId: checkUuid('taskId', event.taskId),
    grantId: checkUuid('grantId', event.grantId),
    principal: checkPrincipal(event.principal),
    payloadJson: checkPayload(event.payload),
  };
}

function checkUuid(field: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !UUID.test(value))
    throw new AuditEventRejected(`audit ${field} is not a uuid`);
  return value.toLowerCase();
}

function checkPrincipal(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PRINCIPAL) {
    throw new AuditEventRejected(`audit principal must be 1..${MAX_PRINCIPAL} characters`);
  }
  checkString(value, 'principal');
  return value;
}

function checkPayload(payload: Record<string, unknown>): string {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new AuditEventRejected('audit payload must be an object');
  }
  inspect(payload, 'payload', 0);
  try {
    return canonicalJson(payload);
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    throw new AuditEventRejected(`audit payload has no canonical JSON form: ${err.message}`, { cause: err });
  }
}

function inspect(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH)
    throw new AuditEventRejected(`audit payload nests deeper than ${MAX_DEPTH} at ${path}`);
  if (typeof value === 'string') {
    checkString(value, path);
    return;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) inspect(item, `${path}[${i}]`, depth + 1);
    return;
  }
  for (const [key, member] of Object.entries(value)) {
    const at = `${path}.${key}`;
    checkString(key, at);
    if (SECRET_KEYS.has(normaliseSecretKey(key))) {
      throw new AuditEventRejected(
        `audit payload key ${at} looks like a secret: store an id, accessor or hash`,
      );
    }
    inspect(member, at, depth + 1);
  }
}

function checkString(value: string, path: string): void {
  // PostgreSQL text and jsonb cannot hold U+0000.
  if (value.includes('\u0000')) throw new AuditEventRejected(`audit ${path} contains U+0000`);
  if (SECRET_VALUES.some((re) => re.test(value))) {
    throw new AuditEventRejected(`audit ${path} holds a token-shaped value: store an id, accessor or hash`);
  }
}
