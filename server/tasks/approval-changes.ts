import { EventEmitter } from 'node:events';

/**
 * Wakes this broker's long polls the moment a request it holds is decided here. A hint only: a decision
 * taken by another broker is seen by the waiters' own periodic re-read, so nothing correct depends on it.
 */
export function createApprovalChanges() {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    changed: (id: string) => void emitter.emit(id),
    /** Resolves when `id` changes here, after `ms`, or when `signal` aborts, whichever comes first. */
    wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emitter.off(id, done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        emitter.once(id, done);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
  };
}
export type ApprovalChanges = ReturnType<typeof createApprovalChanges>;
