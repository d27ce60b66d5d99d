import { type RawBuilder, sql } from 'kysely';

/**
 * A unit of work of ONE statement: each repository contributes its own statement as a named common
 * table expression (`name as (update … returning …)`), guarded on the ones before it, and PostgreSQL runs
 * the whole statement atomically, so it needs no BEGIN, no COMMIT and no lock held across a round trip.
 * A table's SQL still lives in its one writer; this file only joins the pieces.
 */
export interface Cte {
  name: string;
  body: RawBuilder<unknown>;
  /**
   * A check: a plain SELECT PostgreSQL would skip unless read, so the statement reads it. It calls
   * `grantline_refuse(reason)` when what it checks does not hold, which undoes the whole statement.
   */
  check?: boolean;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export function cte(name: string, body: RawBuilder<unknown>, opts: { check?: boolean } = {}): Cte {
  if (!NAME.test(name)) throw new Error(`invalid CTE name ${name}`);
  return { name, body, ...(opts.check ? { check: true } : {}) };
}

const ref = (name: string) => sql.ref(name);

/** True when the named step changed (or returned) at least one row. */
export const happened = (name: string): RawBuilder<boolean> =>
  sql<boolean>`exists (select 1 from ${ref(name)})`;

/** The number of rows the named step changed (or returned). */
export const rowsOf = (name: string): RawBuilder<number> =>
  sql<number>`(select count(*)::int from ${ref(name)})`;

/**
 * A check step: undoes the whole statement with `reason` (SQLSTATE GLR01, see StatementRefused) when
 * `holds` is false. For what a guard alone cannot express: a row another step was sure to find is gone.
 */
export function refuseUnless(name: string, holds: RawBuilder<boolean>, reason: string): Cte {
  return cte(name, sql`select grantline_refuse(${reason}) as refused where not (${holds})`, { check: true });
}

/** `with recursive <ctes> select <fields>` (recursive so a step may walk a chain; the rest are unaffected). */
export function statementOf<T>(ctes: Cte[], fields: Record<string, RawBuilder<unknown>>): RawBuilder<T> {
  const checks = ctes.filter((c) => c.check).map((c) => [`_${c.name}`, rowsOf(c.name)] as const);
  const select = [...Object.entries(fields), ...checks].map(([k, v]) => sql`${v} as ${sql.ref(k)}`);
  const withs = ctes.map((c) => sql`${ref(c.name)} as (${c.body})`);
  return sql<T>`with recursive ${sql.join(withs)} select ${sql.join(select)}`;
}
