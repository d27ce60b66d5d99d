import { invalidRequest } from './vault-error';

/** Vault's system default and max lease TTL when nothing is configured: 768h (spec §3.3). */
export const SYSTEM_DEFAULT_TTL_S = 768 * 3600;
export const SYSTEM_MAX_TTL_S = 768 * 3600;

export interface TtlInput {
  /** Requested increment in seconds, measured from now; 0 = none. */
  increment: number;
  /** The backend's (role's or token's) own TTL, used when no increment is given; 0 = none. */
  backendTtl: number;
  /** The backend's max TTL (role max_ttl); 0 = the system max. */
  backendMaxTtl: number;
  /** A token's explicit_max_ttl; 0 = none. */
  explicitMaxTtl: number;
  /** Issue time of the lease or token, in ms. */
  startMs: number;
  nowMs: number;
}

/**
 * Vault's `framework.CalculateTTL` without periods: TTL = increment (else backend TTL, else the system
 * default) from now, capped at issue time + max TTL with the spec's warning (§3.2). Times are truncated
 * to the second as Vault does. Nothing left → 400 `past the max TTL, cannot renew`.
 */
export function calculateTtl(input: TtlInput): { ttl: number; warnings: string[] } {
  const now = Math.floor(input.nowMs / 1000);
  const start = Math.floor(input.startMs / 1000);
  let maxTtl = SYSTEM_MAX_TTL_S;
  if (input.backendMaxTtl > 0 && input.backendMaxTtl < maxTtl) maxTtl = input.backendMaxTtl;
  if (input.explicitMaxTtl > 0 && input.explicitMaxTtl < maxTtl) maxTtl = input.explicitMaxTtl;
  const ttl =
    input.increment > 0 ? input.increment : input.backendTtl > 0 ? input.backendTtl : SYSTEM_DEFAULT_TTL_S;
  const maxValidTtl = start + maxTtl - now;
  if (maxValidTtl <= 0) throw invalidRequest('past the max TTL, cannot renew');
  if (ttl <= maxValidTtl) return { ttl, warnings: [] };
  return { ttl: maxValidTtl, warnings: [ttlCappedWarning(ttl, maxValidTtl)] };
}

export const ttlCappedWarning = (ttl: number, max: number): string =>
  `TTL of "${humanDuration(ttl)}" exceeded the effective max_ttl of "${humanDuration(max)}"; TTL value is capped accordingly`;

/**
 * Go's `time.Duration.String()` for whole seconds with Vault's trimming of zero units
 * (`1h0m0s` → `1h`, `10m0s` → `10m`, `1h0m5s` → `1h5s`), as in its TTL warnings.
 */
export function humanDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h === 0 && m === 0) return `${s}s`;
  let out = h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
  if (out.endsWith('m0s')) out = out.slice(0, -2);
  const idx = out.indexOf('h0m');
  if (idx > 0) out = out.slice(0, idx + 1) + out.slice(idx + 3);
  return out;
}

/** Remaining whole seconds until `expireAtMs` (0 when past), as Vault's lookups report `ttl`. */
export const remainingSeconds = (expireAtMs: number, nowMs: number): number =>
  Math.max(0, Math.floor((expireAtMs - nowMs) / 1000));
