import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { toWorkloadApiError, WorkloadApiError } from './workload-api.errors';

export interface WatchHandlers<T> {
  /** Each message is the complete current state (Workload API §4): replace, never merge. */
  onUpdate(value: T): void;
  /** A failed stream or an undecodable message; the watch re-dials unless `err.retryable` is false. */
  onError(err: Error): void;
}

export interface Watch {
  /** Resolves with the first update, or rejects when the stream fails for good or `timeoutMs` passes. */
  readonly ready: Promise<void>;
  close(): void;
}

export interface WatchOptions {
  /** Backoff after a failure: linear from 1 s to 30 s like go-spiffe, reset by a good message. */
  backoffStepMs?: number;
  backoffMaxMs?: number;
  readyTimeoutMs?: number;
}

/**
 * Keeps one server-streaming call open, re-dialling after errors and stream ends. Stops on its own only
 * for errors a retry cannot fix (InvalidArgument, Unimplemented), like go-spiffe's watcher.
 */
export function watchStream<R, T>(
  rpc: string,
  open: () => ClientReadableStream<R>,
  decode: (message: R) => T,
  handlers: WatchHandlers<T>,
  opts: WatchOptions = {},
): Watch {
  const step = opts.backoffStepMs ?? 1000;
  const max = opts.backoffMaxMs ?? 30_000;
  let failures = 0;
  let closed = false;
  let call: ClientReadableStream<R> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settle: { resolve(): void; reject(err: Error): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined);
  const readyTimer = setTimeout(
    () =>
      settle?.reject(new Error(`Workload API ${rpc}: no answer within ${opts.readyTimeoutMs ?? 30_000} ms`)),
    opts.readyTimeoutMs ?? 30_000,
  );
  readyTimer.unref();

  const fail = (err: Error, permanent: boolean) => {
    handlers.onError(err);
    if (permanent) {
      settle?.reject(err);
      closeAll();
      return;
    }
    failures += 1;
    timer = setTimeout(dial, Math.min(max, failures * step));
    timer.unref();
  };

  function dial(): void {
    if (closed) return;
    const current = open();
    call = current;
    current.on('data', (message: R) => {
      let value: T;
      try {
        value = decode(message);
      } catch (err) {
        handlers.onError(err as Error);
        return;
      }
      failures = 0;
      handlers.onUpdate(value);
      clearTimeout(readyTimer);
      settle?.resolve();
    });
    current.on('error', (err: { code?: number }) => {
      if (closed || current !== call) return;
      call = undefined;
      const error = toWorkloadApiError(rpc, err);
      const permanent =
        err.code === status.INVALID_ARGUMENT ||
        err.code === status.UNIMPLEMENTED ||
        err.code === status.CANCELLED;
      fail(error, permanent);
    });
    current.on('end', () => {
      if (closed || current !== call) return;
      call = undefined;
      fail(new WorkloadApiError(rpc, status.UNAVAILABLE, 'the stream ended'), false);
    });
  }

  function closeAll(): void {
    closed = true;
    clearTimeout(timer);
    clearTimeout(readyTimer);
    const current = call;
    call = undefined;
    current?.cancel();
  }

  dial();
  return {
    ready,
    close() {
      settle?.reject(new Error(`Workload API ${rpc}: watch closed`));
      closeAll();
    },
  };
}
