import type { Db, TaskRow } from '../db/database';
import { findTask } from './task.repository';

const DEFAULT_MAX = 10_000;

/**
 * Open tasks as this process last read them, for the grant path. Everything but a task's status and
 * counters is fixed once it opens (owner, agents, delegates, scopes, audiences, limits, context, expiry),
 * so a request reads those from memory instead of PostgreSQL. Status and counters are never trusted from
 * here: the reservation checks them in the very statement that takes the grant's slot, and whoever learns
 * that a task is no longer open (a close in this process, a refused reservation) makes the cache forget it.
 * Bounded (least recently used out first); correctness never depends on a hit.
 */
export function createTaskCache(db: Db, opts: { max?: number } = {}) {
  const max = opts.max ?? DEFAULT_MAX;
  const open = new Map<string, TaskRow>();
  return {
    /** The task (from memory while it is open), or undefined when there is no such task. */
    async load(id: string): Promise<TaskRow | undefined> {
      const hit = open.get(id);
      if (hit) {
        open.delete(id);
        open.set(id, hit);
        return hit;
      }
      const row = await findTask(db, id);
      if (row?.status === 'open') {
        if (open.size >= max) open.delete(open.keys().next().value as string);
        open.set(id, row);
      }
      return row;
    },
    forget(id: string): void {
      open.delete(id);
    },
    get size(): number {
      return open.size;
    },
  };
}

export type TaskCache = ReturnType<typeof createTaskCache>;
