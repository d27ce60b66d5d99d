/**
 * An error answered in Vault's shape: the HTTP status and `{"errors": [...]}` (spec §1.2). The message
 * list is the body verbatim, so it must never carry a token or a password.
 */
export class VaultApiError extends Error {
  readonly status: number;
  readonly errors: string[];

  constructor(status: number, errors: string[] | string) {
    const list = typeof errors === 'string' ? [errors] : errors;
    super(list[0] ?? `status ${status}`);
    this.name = 'VaultApiError';
    this.status = status;
    this.errors = list;
  }
}

export const invalidRequest = (message: string): VaultApiError => new VaultApiError(400, message);

/**
 * OpenBao (the oracle for this server) wraps some errors in go-multierror's text: permission denied,
 * unsupported path, an unknown or missing accessor, a role outside `allowed_roles`.
 */
export const multiError = (message: string): string => `1 error occurred:\n\t* ${message}\n\n`;

export const permissionDenied = (): VaultApiError => new VaultApiError(403, multiError('permission denied'));

/** A plain 404: Vault answers a read of nothing with an empty error list (spec §1.2). */
export const notFound = (): VaultApiError => new VaultApiError(404, []);

export const unsupportedOperation = (): VaultApiError => new VaultApiError(405, 'unsupported operation');

export const sealedError = (): VaultApiError => new VaultApiError(503, 'Vault is sealed');

/** Turns anything thrown by a handler into a Vault error; unknown failures become a 500 with their message. */
export function toVaultError(err: unknown): VaultApiError {
  if (err instanceof VaultApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new VaultApiError(500, message);
}
