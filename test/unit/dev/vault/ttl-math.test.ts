import { calculateTtl, humanDuration, remainingSeconds } from '../../../../server/dev/vault/ttl-math';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const base = { increment: 0, backendTtl: 0, backendMaxTtl: 0, explicitMaxTtl: 0, startMs: T0, nowMs: T0 };

describe('TTL math (spec §3.2)', () => {
  it('when an increment is given, then TTL = increment from now', () => {
    expect(calculateTtl({ ...base, increment: 600, backendTtl: 3600, backendMaxTtl: 7200 })).toEqual({
      ttl: 600,
      warnings: [],
    });
  });

  it('when no increment is given, then the backend TTL, else the 768h system default, applies', () => {
    expect(calculateTtl({ ...base, backendTtl: 3600 }).ttl).toBe(3600);
    expect(calculateTtl(base).ttl).toBe(768 * 3600);
  });

  it('when the increment passes issue + max_ttl, then it is capped with the exact warning', () => {
    const r = calculateTtl({ ...base, increment: 3600, backendMaxTtl: 7200, nowMs: T0 + 6600_000 });
    expect(r).toEqual({
      ttl: 600,
      warnings: ['TTL of "1h" exceeded the effective max_ttl of "10m"; TTL value is capped accordingly'],
    });
  });

  it('when explicit_max_ttl is lower than the backend max, then it is the cap', () => {
    expect(calculateTtl({ ...base, increment: 900, backendMaxTtl: 7200, explicitMaxTtl: 300 }).ttl).toBe(300);
  });

  it('when nothing of the max TTL is left, then 400 past the max TTL, cannot renew', () => {
    expect(() => calculateTtl({ ...base, increment: 60, backendMaxTtl: 60, nowMs: T0 + 60_000 })).toThrow(
      'past the max TTL, cannot renew',
    );
  });

  it('when times have milliseconds, then both are truncated to the second first', () => {
    expect(
      calculateTtl({ ...base, increment: 100, backendMaxTtl: 100, startMs: T0 + 999, nowMs: T0 + 50_001 })
        .ttl,
    ).toBe(50);
  });
});

describe('humanDuration', () => {
  it('when formatting, then Go duration strings with zero units trimmed come out', () => {
    expect(humanDuration(3600)).toBe('1h');
    expect(humanDuration(600)).toBe('10m');
    expect(humanDuration(3605)).toBe('1h5s');
    expect(humanDuration(69)).toBe('1m9s');
    expect(humanDuration(45)).toBe('45s');
    expect(humanDuration(2_793_391)).toBe('775h56m31s');
    expect(humanDuration(0)).toBe('0s');
  });

  it('when time has passed the expiry, then remaining seconds are 0', () => {
    expect(remainingSeconds(T0, T0 + 1)).toBe(0);
    expect(remainingSeconds(T0 + 1999, T0)).toBe(1);
  });
});
