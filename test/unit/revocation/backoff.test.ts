import { backoffMs } from '../../../server/revocation/revocation.worker';

describe('revocation retry backoff', () => {
  test('when attempts grow, then the delay doubles from 500 ms within ±20 % jitter', () => {
    for (const [attempt, base] of [
      [1, 500],
      [2, 1000],
      [3, 2000],
      [6, 16000],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(attempt);
        expect(d).toBeGreaterThanOrEqual(base * 0.8);
        expect(d).toBeLessThanOrEqual(base * 1.2);
      }
    }
  });

  test('when attempts are many, then the delay is capped at a minute (plus jitter)', () => {
    for (let i = 0; i < 50; i++) expect(backoffMs(40)).toBeLessThanOrEqual(72_000);
  });

  test('when the attempt count is 0 or negative, then it is treated as the first attempt', () => {
    expect(backoffMs(0)).toBeLessThanOrEqual(600);
    expect(backoffMs(-3)).toBeGreaterThanOrEqual(400);
  });
});
