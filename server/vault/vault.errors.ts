import { GrantlineError, Unavailable, UpstreamError } from '../shared/errors';

/** Where a Vault call failed: safe to log and to put in error details (never a token or a body). */
export interface VaultCallContext {
  op: string;
  path: string;
}

interface VaultFailure {
  ctx: VaultCallContext;
  /** Vault's HTTP status, absent for network errors and timeouts. */
  vaultStatus?: number;
  /** Vault's `errors[]` strings (messages such as `permission denied`, never secrets). */
  vaultErrors?: string[];
  /** Transport reason for network failures (`ECONNREFUSED`, `ETIMEDOUT`, ...). */
  reason?: string;
}

const detailsOf = (f: VaultFailure): Record<string, unknown> => ({
  op: f.ctx.op,
  path: f.ctx.path,
  ...(f.vaultStatus === undefined ? {} : { vaultStatus: f.vaultStatus }),
  ...(f.vaultErrors && f.vaultErrors.length > 0 ? { vaultErrors: f.vaultErrors } : {}),
  ...(f.reason === undefined ? {} : { reason: f.reason }),
});

/** Vault could not be reached, timed out, is sealed or answered 5xx/429: the caller may retry later. */
export class VaultUnavailable extends Unavailable {
  readonly vaultStatus: number | undefined;
  constructor(f: VaultFailure) {
    const why = f.vaultStatus === undefined ? (f.reason ?? 'network error') : `status ${f.vaultStatus}`;
    super(`Vault is unavailable (${f.ctx.op}: ${why})`, { details: detailsOf(f) });
    this.vaultStatus = f.vaultStatus;
  }
}

/**
 * Vault answered but refused or did not understand the call. These are upstream failures of the broker
 * (a misconfigured policy, a dead acting token), so they map to 502 and never expose Vault's message.
 */
abstract class VaultCallError extends UpstreamError {
  readonly vaultStatus: number | undefined;
  readonly vaultErrors: string[];
  /** Stable kind for logs and metrics (`vault_denied`, `vault_not_found`, …). */
  readonly kind: string;
  constructor(kind: string, label: string, f: VaultFailure) {
    const first = f.vaultErrors?.[0];
    super(`${label} (${f.ctx.op} ${f.ctx.path}${first ? `: ${first}` : ''})`, { details: detailsOf(f) });
    this.kind = kind;
    this.vaultStatus = f.vaultStatus;
    this.vaultErrors = f.vaultErrors ?? [];
  }
}

/** 403: permission denied, or the acting token is missing, revoked or expired. */
export class VaultDenied extends VaultCallError {
  constructor(f: VaultFailure) {
    super('vault_denied', 'Vault denied the request', f);
  }
}

/** 404, or a 400 that means "no such lease/accessor" (`invalid lease`, `invalid accessor`, ...). */
export class VaultNotFound extends VaultCallError {
  constructor(f: VaultFailure) {
    super('vault_not_found', 'Vault has no such object', f);
  }
}

/** Any other 4xx (`unknown role`, `child policies must be subset of parent`, ...). */
export class VaultRequestError extends VaultCallError {
  constructor(f: VaultFailure) {
    super('vault_request_error', 'Vault rejected the request', f);
  }
}

/** Vault answered 2xx with a body that does not have the documented shape (or an unexpected 2xx/3xx). */
export class VaultBadResponse extends VaultCallError {
  constructor(f: VaultFailure & { problem: string }) {
    super('vault_bad_response', `Unexpected Vault response: ${f.problem}`, f);
  }
}

// A 400 whose message says the object does not exist (specs/vault-api.md §2.2, §2.3, §3.2).
const NOT_FOUND_400 = [
  'invalid lease',
  'lease not found',
  'invalid accessor',
  'no token found',
  'token not found',
];

/** Shape of the HTTP client's rejections: Vault's answer, or a network error's code (specs/vault-api.md §7.2). */
interface RawError {
  code?: unknown;
  message?: unknown;
  response?: { statusCode?: unknown; body?: unknown };
}

const errorsOf = (body: unknown): string[] => {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.filter((e): e is string => typeof e === 'string').map((e) => e.slice(0, 300));
};

/**
 * Turns whatever the HTTP client rejected with into one typed error. The raw error is deliberately NOT kept as
 * `cause`: HTTP client errors may carry the request, whose headers hold the Vault token.
 */
export function classifyVaultError(err: unknown, ctx: VaultCallContext): GrantlineError {
  if (err instanceof GrantlineError) return err;
  const raw = (err ?? {}) as RawError;
  const status = raw.response?.statusCode;
  if (typeof status !== 'number') {
    const reason = typeof raw.code === 'string' ? raw.code : 'network error';
    return new VaultUnavailable({ ctx, reason });
  }
  const f: VaultFailure = { ctx, vaultStatus: status, vaultErrors: errorsOf(raw.response?.body) };
  // 412 (Enterprise consistency retry) and 429 (standby, rate limit, lease quota) both mean "try later".
  if (status >= 500 || status === 429 || status === 412) return new VaultUnavailable(f);
  if (status === 403) return new VaultDenied(f);
  if (status === 404) return new VaultNotFound(f);
  if (status < 400) return new VaultBadResponse({ ...f, problem: `status ${status}` });
  const lower = (f.vaultErrors ?? []).map((e) => e.toLowerCase());
  if (status === 400 && lower.some((e) => NOT_FOUND_400.some((m) => e.includes(m)))) {
    return new VaultNotFound(f);
  }
  return new VaultRequestError(f);
}
