const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration (`"90"`, `"90s"`, `"5m"`, `"1h30m"`, or a number of seconds) into whole seconds.
 * Returns undefined for anything else, so callers can report the bad key.
 */
export function parseDurationSeconds(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : undefined;
  const s = input.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNITS[m[2]!] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) return undefined;
  return Math.floor(total);
}
