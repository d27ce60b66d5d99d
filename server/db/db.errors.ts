import { Unavailable } from '../shared/errors';

/** PostgreSQL could not be reached or ended the session: 503, nothing was committed, the caller may retry. */
export class DatabaseUnavailable extends Unavailable {
  constructor(cause: unknown) {
    super('the database is unavailable; nothing was changed, retry later', { cause });
  }
}

/**
 * Whether an error means PostgreSQL could not be reached or went away (→ 503), as opposed to a bug or a
 * constraint violation. SQLSTATE classes 08 (connection exception), 53 (insufficient resources) and
 * 57P (operator intervention: shutdown, cannot connect now) count, as do socket-level failures.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (/^(08|53|57P)/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))
      return true;
  }
  if (typeof message === 'string') {
    return (
      message.includes('timeout exceeded when trying to connect') ||
      message.includes('Connection terminated') ||
      message.includes('Client has encountered a connection error') ||
      message.includes('Cannot use a pool after calling end')
    );
  }
  return false;
}
