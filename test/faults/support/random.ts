import { randomInt } from 'node:crypto';

/** A seeded generator (mulberry32): FAULTS_SEED=<n> replays a run's choices (its timing stays the machine's). */
export function seededRandom(label: string): {
  seed: number;
  next(): number;
  between(lo: number, hi: number): number;
} {
  const seed = Number(process.env.FAULTS_SEED ?? randomInt(2 ** 31 - 1));
  let a = seed ^ [...label].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** A number of seconds (or a count) from the environment, with a default for CI. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}
