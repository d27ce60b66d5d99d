import { parseDurationSeconds } from '../../shared/duration';
import { InvalidRequest } from '../../shared/errors';

/** The TTL of a new grant: asked (or the default), never above the configured cap or what is left. */
export function grantTtl(
  requested: number | string | undefined,
  limits: { defaultSeconds: number; maxSeconds: number },
  remainingSeconds: number,
): number {
  const asked = requested === undefined ? limits.defaultSeconds : parseDurationSeconds(requested);
  if (asked === undefined || asked < 1)
    throw new InvalidRequest('ttl must be a positive duration such as 300 or "5m"');
  return Math.min(asked, limits.maxSeconds, remainingSeconds);
}

export const remainingSeconds = (until: Date, now: Date): number =>
  Math.floor((until.getTime() - now.getTime()) / 1000);
