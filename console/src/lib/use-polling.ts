import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from './api';

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` now and every `intervalMs` after (live views: tasks, receipts, the inbox), pausing
 * while the tab is hidden. `intervalMs` 0 loads once. A 401 is reported to `onSignedOut`.
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState !== 'hidden') {
        try {
          const value = await loadRef.current();
          if (stopped) return;
          setData(value);
          setError(undefined);
        } catch (err) {
          if (stopped) return;
          setError(err as Error);
        } finally {
          if (!stopped) setLoading(false);
        }
      }
      if (!stopped && intervalMs > 0) timer = setTimeout(run, intervalMs);
    };
    run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick, intervalMs]);

  return { data, error, loading, reload };
}
