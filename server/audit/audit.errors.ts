import { InternalError } from '../shared/errors';

/**
 * The caller tried to append an event the log must not hold (a secret-shaped key or value, a field that
 * is not storable or has no canonical form). A programming error, so a 500 that never shows its message;
 * the message names the field, never its value.
 */
export class AuditEventRejected extends InternalError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}
