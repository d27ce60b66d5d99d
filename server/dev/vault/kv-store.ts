import type { Clock } from '../../shared/clock';
import { invalidRequest } from './vault-error';

interface KvVersion {
  data: Record<string, unknown>;
  createdMs: number;
  deletedMs: number | null;
  destroyed: boolean;
}

interface KvEntry {
  versions: Map<number, KvVersion>;
  current: number;
  createdMs: number;
  updatedMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export const versionMetadata = (v: KvVersion, version: number): Record<string, unknown> => ({
  created_time: iso(v.createdMs),
  custom_metadata: null,
  deletion_time: v.deletedMs === null ? '' : iso(v.deletedMs),
  destroyed: v.destroyed,
  version,
});

/** KV version 2 at `secret/` (spec §5): versioned writes with check-and-set, soft delete, no leases. */
export function createKvStore(clock: Clock) {
  const entries = new Map<string, KvEntry>();
  const now = (): number => clock.now().getTime();

  return {
    has: (path: string): boolean => entries.has(path),
    read(path: string, version?: number): { version: number; entry: KvVersion } | undefined {
      const e = entries.get(path);
      const n = version && version > 0 ? version : e?.current;
      const v = n === undefined ? undefined : e?.versions.get(n);
      return v && n !== undefined ? { version: n, entry: v } : undefined;
    },
    write(path: string, data: Record<string, unknown>, cas?: number): Record<string, unknown> {
      const e = entries.get(path);
      const current = e?.current ?? 0;
      if (cas !== undefined && cas !== current) {
        throw invalidRequest('check-and-set parameter did not match the current version');
      }
      const at = now();
      const entry = e ?? { versions: new Map(), current: 0, createdMs: at, updatedMs: at };
      const version = current + 1;
      const v: KvVersion = { data, createdMs: at, deletedMs: null, destroyed: false };
      entry.versions.set(version, v);
      entry.current = version;
      entry.updatedMs = at;
      entries.set(path, entry);
      return versionMetadata(v, version);
    },
    /** Soft-deletes the latest version (DELETE secret/data/:path). */
    softDelete(path: string): void {
      const e = entries.get(path);
      const v = e?.versions.get(e.current);
      if (v && v.deletedMs === null) v.deletedMs = now();
    },
    metadata(path: string): Record<string, unknown> | undefined {
      const e = entries.get(path);
      if (!e) return undefined;
      const versions: Record<string, unknown> = {};
      for (const [n, v] of e.versions) {
        versions[String(n)] = {
          created_time: iso(v.createdMs),
          deletion_time: v.deletedMs === null ? '' : iso(v.deletedMs),
          destroyed: v.destroyed,
        };
      }
      return {
        cas_required: false,
        created_time: iso(e.createdMs),
        current_metadata_version: 1,
        current_version: e.current,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        metadata_cas_required: false,
        oldest_version: Math.min(...e.versions.keys()),
        updated_time: iso(e.updatedMs),
        versions,
      };
    },
    deleteAll: (path: string): void => {
      entries.delete(path);
    },
    /** Immediate children under `prefix` (folders end in `/`). */
    list(prefix: string): string[] {
      const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
      const keys = new Set<string>();
      for (const path of entries.keys()) {
        if (!path.startsWith(p)) continue;
        const rest = path.slice(p.length);
        const slash = rest.indexOf('/');
        keys.add(slash >= 0 ? rest.slice(0, slash + 1) : rest);
      }
      return [...keys].sort();
    },
    clear: (): void => entries.clear(),
  };
}

export type KvStore = ReturnType<typeof createKvStore>;
