/** A credential with its validity window. */
export interface Expiring<T> {
  value: T;
  issuedAt: Date;
  expiresAt: Date;
}

export interface RefreshOptions {
  now?: () => number;
  /** Never hand out a credential with less than this left (default 5 s). */
  minRemainingMs?: number;
}

/**
 * Caches a credential and loads a new one once half its lifetime has passed (the rotation point SPIRE
 * uses for SVIDs), or when less than `minRemainingMs` is left. Concurrent callers share one load. If a
 * refresh fails while the cached credential is still usable, the cached one is returned and the next call
 * tries again; once it is no longer usable, the failure propagates.
 */
export function refreshBeforeExpiry<T>(load: () => Promise<Expiring<T>>, opts: RefreshOptions = {}) {
  const now = opts.now ?? Date.now;
  const minRemaining = opts.minRemainingMs ?? 5_000;
  let current: Expiring<T> | undefined;
  let loading: Promise<Expiring<T>> | undefined;

  const usable = (c: Expiring<T>) => c.expiresAt.getTime() - now() > minRemaining;
  const due = (c: Expiring<T>) => {
    const half = c.issuedAt.getTime() + (c.expiresAt.getTime() - c.issuedAt.getTime()) / 2;
    return now() >= half || !usable(c);
  };

  function reload(): Promise<Expiring<T>> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  return async function get(): Promise<T> {
    if (current && !due(current)) return current.value;
    try {
      current = await reload();
    } catch (err) {
      if (current && usable(current)) return current.value;
      throw err;
    }
    return current.value;
  };
}
