import { InvalidArgumentError } from 'commander';
import { parseDurationSeconds } from '../shared/duration';

/** For repeatable options (`--scope a --scope b`): commander calls this once per occurrence. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A positive duration (`90`, `90s`, `5m`, `1h30m`) in whole seconds; commander reports the error. */
export function parseDuration(input: string): number {
  const seconds = parseDurationSeconds(input);
  if (seconds === undefined || seconds <= 0)
    throw new InvalidArgumentError('not a positive duration (e.g. 90s, 5m, 1h30m)');
  return seconds;
}

/** A whole number ≥ 0 (budgets, limits). */
export function parseCount(input: string): number {
  if (!/^\d+$/.test(input.trim())) throw new InvalidArgumentError('not a whole number ≥ 0');
  const n = Number(input.trim());
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('too large');
  return n;
}

/** A risk score 0..100, as the task context expects. */
export function parseRisk(input: string): number {
  const n = parseCount(input);
  if (n > 100) throw new InvalidArgumentError('a risk score is between 0 and 100');
  return n;
}

export function parseArgsDigest(input: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(input)) throw new InvalidArgumentError('expected sha256:<64 hex digits>');
  return input;
}

/** `300` → `5m`, `5400` → `1h30m`, `45` → `45s`: the inverse of parseDurationSeconds, for output. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds);
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** `in 5m (2026-01-01T10:05:00Z)` from seconds-from-now, for one-line expiry facts. */
export function formatExpiresIn(expiresIn: number, now: Date = new Date()): string {
  const at = new Date(now.getTime() + expiresIn * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `in ${formatDuration(expiresIn)} (${at})`;
}
