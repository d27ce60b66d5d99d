import { InternalError } from '../shared/errors';

/** A policy or the schema cannot be loaded; start-up stops. The message carries Cedar's own. */
export class PolicyLoadError extends InternalError {
  constructor(message: string, details: { file?: string; cedarErrors?: string[] } = {}) {
    super(message, { details });
  }
}

/** The caller handed facts that cannot form a Cedar request (a programming error); it becomes a denial. */
export class PolicyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyInputError';
  }
}
