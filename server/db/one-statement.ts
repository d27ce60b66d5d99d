import { type RawBuilder, sql } from 'kysely';

/**
 * A unit of work of ONE statement: each repository contributes its own statement as a named common
 * table expression (`name as (update … returning …)`), guarded on the ones before it, and PostgreSQL runs
 * the whole statement atomically: no BEGIN, no COMMIT, no lock held across a round trip. A table's SQL
 * still lives in its one writer; this file only joins the pieces.
 */
export interface Cte {
  name: string;
  body: RawBuilder<unknown>;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export function cte(name: string, body: RawBuilder<unknown>): Cte {
  if (!NAME.test(name)) throw new Error(`invalid CTE name ${name}`);
  return { name, body };
}

/** True when the named step changed (or returned) at least one row. */
export const happened = (name: string): RawBuilder<boolean> =>
  sql<boolean>`exists (select 1 from ${sql.ref(name)})`;

/** The number of rows the named step changed (or returned). */
export const rowsOf = (name: string): RawBuilder<number> =>
  sql<number>`(select count(*)::int from ${sql.ref(name)})`;

/** `with <ctes> select <fields>`: one row of the answer's fields. */
export function statementOf<T>(ctes: Cte[], fields: Record<string, RawBuilder<unknown>>): RawBuilder<T> {
  const select = Object.entries(fields).map(([k, v]) => sql`${v} as ${sql.ref(k)}`);
  const withs = ctes.map((c) => sql`${sql.ref(c.name)} as (${c.body})`);
  return sql<T>`with ${sql.join(withs)} select ${sql.join(select)}`;
}
