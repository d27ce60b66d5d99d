import { status } from '@grpc/grpc-js';

/**
 * A Workload API call failed. `retryable` follows the spec's client guidance: Unavailable (agent starting,
 * shedding load) and PermissionDenied ("no identity issued" while a new entry propagates) are retried with
 * backoff; InvalidArgument (a malformed call) and Unimplemented are not.
 */
export class WorkloadApiError extends Error {
  readonly grpcCode: number;
  readonly retryable: boolean;
  constructor(rpc: string, grpcCode: number, details: string) {
    super(`Workload API ${rpc} failed: ${status[grpcCode] ?? grpcCode}${details ? ` (${details})` : ''}`);
    this.name = 'WorkloadApiError';
    this.grpcCode = grpcCode;
    this.retryable = RETRYABLE.has(grpcCode);
  }
}

const RETRYABLE = new Set<number>([
  status.UNAVAILABLE,
  status.PERMISSION_DENIED,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.ABORTED,
]);

/** A reply that does not hold what the spec promises (e.g. an SVID without a key). */
export class WorkloadApiBadResponse extends Error {
  constructor(rpc: string, problem: string) {
    super(`Workload API ${rpc} answered with ${problem}`);
    this.name = 'WorkloadApiBadResponse';
  }
}

export function toWorkloadApiError(rpc: string, err: unknown): Error {
  const e = err as { code?: unknown; details?: unknown; message?: string };
  if (typeof e?.code === 'number') return new WorkloadApiError(rpc, e.code, String(e.details ?? ''));
  return err instanceof Error ? err : new Error(String(err));
}
