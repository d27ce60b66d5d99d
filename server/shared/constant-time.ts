import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets without leaking where they differ (hashing first equalises lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export const sha256Hex = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');
