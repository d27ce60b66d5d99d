import { AsyncLocalStorage } from 'node:async_hooks';
import type { RawBuilder } from 'kysely';
import type { Clock } from '../shared/clock';
import type { Db, Tx } from './database';
import { type Cte, statementOf } from './one-statement';

/**
 * What a step of a unit of work may touch: the transaction (for repositories), the time of the unit,
 * and two queues the unit drains itself. No Vault handle, no other connection: a network call inside a
 * transaction would hold its locks across it.
 */
export interface Work<E> {
  readonly tx: Tx;
  readonly now: Date;
  /** Queues audit events; the unit appends them after every other write of the step (audit last). */
  audit(...events: E[]): void;
  /** Runs once the transaction has committed (e.g. wake the revocation worker). Never on rollback. */
  afterCommit(fn: () => void): void;
}

export interface UnitOptions {
  /** Lock this task's row first (FOR NO KEY UPDATE): the one lock order of Grantline, task row first. */
  task?: string;
  /** Lock these tasks' rows first, in id order, skipping rows another unit holds (sweepers). */
  tasks?: string[];
}

/** A unit of work that is one statement (see one-statement.ts): its steps, its audit, what it answers. */
export interface OneStatement<E> {
  /** Each repository's statement as a named CTE, in lock order (the task row first). */
  steps: Cte[];
  /** Appended in the same statement, after the steps, only when `when` holds (the state change happened). */
  audit?: { events: E[]; when: RawBuilder<boolean> };
  /** The statement's answer: one row of these (counts and flags built with `rowsOf`/`happened`). */
  answer: Record<string, RawBuilder<unknown>>;
}

export interface UnitOfWork<E> {
  /**
   * Runs `step` in one transaction: locks the task row(s) asked for, runs the step, appends the queued
   * audit events, commits, then runs the after-commit callbacks. The only way the domain writes.
   * The step receives the ids of the tasks it holds (for `tasks`, those not skipped).
   */
  run<T>(opts: UnitOptions, step: (w: Work<E>, locked: string[]) => Promise<T>): Promise<T>;
  /**
   * The hot path's unit: ONE round trip. PostgreSQL runs a statement atomically, so there is no BEGIN
   * or COMMIT, and no lock is held while the broker's event loop is busy elsewhere. `build` gets the
   * unit's time. Rejects with the statement's error (nothing of it then happened).
   */
  once<T>(build: (now: Date) => OneStatement<E>): Promise<T>;
}

const inside = new AsyncLocalStorage<true>();

/** True while the caller runs inside a unit of work's transaction (the Vault adapter refuses to run then). */
export function insideUnitOfWork(): boolean {
  return inside.getStore() === true;
}

async function lockTasks(tx: Tx, opts: UnitOptions): Promise<string[]> {
  if (opts.task) {
    const row = await tx
      .selectFrom('tasks')
      .select('id')
      .where('id', '=', opts.task)
      .forNoKeyUpdate()
      .executeTakeFirst();
    return row ? [row.id] : [];
  }
  if (!opts.tasks?.length) return [];
  const rows = await tx
    .selectFrom('tasks')
    .select('id')
    .where('id', 'in', [...new Set(opts.tasks)].sort())
    .orderBy('id')
    .forNoKeyUpdate()
    .skipLocked()
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The unit-of-work helper. `FOR NO KEY UPDATE` on the task row keeps foreign-key checks of inserts that
 * reference the task (leases, jobs) from waiting behind it; audit events go last because appending may
 * take a lock every writer shares, which must never be held while waiting for a task or grant row.
 */
export function createUnitOfWork<E>(deps: {
  db: Db;
  clock: Clock;
  appendAudit: (tx: Tx, events: E[], at: Date) => Promise<void>;
  /** The audit append as the last step of a one-statement unit (units without it cannot audit in `once`). */
  auditStep?: (events: E[], at: Date, when: RawBuilder<boolean>) => Cte;
}): UnitOfWork<E> {
  return {
    async once<T>(build: (now: Date) => OneStatement<E>) {
      const now = deps.clock.now();
      const s = build(now);
      const events = s.audit?.events ?? [];
      if (events.length && !deps.auditStep)
        throw new Error('this unit of work cannot audit in one statement');
      const audit = events.length ? [deps.auditStep!(events, now, s.audit!.when)] : [];
      const statement = statementOf<T>([...s.steps, ...audit], s.answer);
      const result = await inside.run(true, () => statement.execute(deps.db));
      return result.rows[0] as T;
    },
    async run(opts, step) {
      const after: Array<() => void> = [];
      const result = await inside.run(true, () =>
        deps.db.transaction().execute(async (tx) => {
          const events: E[] = [];
          const now = deps.clock.now();
          const work: Work<E> = {
            tx,
            now,
            audit: (...e) => void events.push(...e),
            afterCommit: (fn) => void after.push(fn),
          };
          const value = await step(work, await lockTasks(tx, opts));
          if (events.length) await deps.appendAudit(tx, events, now);
          return value;
        }),
      );
      for (const fn of after) fn();
      return result;
    },
  };
}
