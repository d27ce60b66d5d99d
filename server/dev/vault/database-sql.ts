import { Pool } from 'pg';
import { reportClientErrors } from '../../db/client-errors';
import type { Logger } from '../../shared/logger';
import { renderStatement, type StatementVars } from './database-credentials';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Runs the statements in ONE transaction, rolled back on the first error (spec §4). Each element is sent
 * whole with the simple query protocol, so an element may hold several `;`-separated statements and
 * `DO $$ … $$` blocks keep their inner semicolons.
 */
export async function runInTransaction(pool: Pool, statements: string[], vars: StatementVars): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    for (const statement of statements) await client.query(renderStatement(statement, vars));
    await client.query('COMMIT');
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The PostgreSQL plugin's default revocation when a role has no revocation_statements (spec §4): revoke
 * what the role was granted, as far as possible, then `DROP ROLE IF EXISTS`. A role that is already gone
 * counts as revoked.
 */
export async function defaultRevoke(pool: Pool, username: string, log: Logger): Promise<void> {
  const client = await pool.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
    if (exists.rowCount === 0) return;
    const schemas = await client.query<{ nspname: string }>(
      `SELECT DISTINCT n.nspname FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL aclexplode(c.relacl) a
         JOIN pg_roles r ON r.oid = a.grantee
        WHERE r.rolname = $1`,
      [username],
    );
    const db = await client.query<{ db: string }>('SELECT current_database() AS db');
    const user = quoteIdent(username);
    const statements = [
      ...schemas.rows.flatMap(({ nspname }) => [
        `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${quoteIdent(nspname)} FROM ${user}`,
        `REVOKE USAGE ON SCHEMA ${quoteIdent(nspname)} FROM ${user}`,
      ]),
      `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM ${user}`,
      `REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM ${user}`,
      `REVOKE USAGE ON SCHEMA public FROM ${user}`,
      `REVOKE CONNECT ON DATABASE ${quoteIdent(db.rows[0]!.db)} FROM ${user}`,
    ];
    // Like the Vault plugin, keep going when one REVOKE fails: remove as much as possible, then drop.
    for (const statement of statements) {
      await client.query(statement).catch((err: Error) => {
        log.debug({ error: err.message }, 'default revocation step failed; continuing');
      });
    }
    await client.query(`DROP ROLE IF EXISTS ${user}`);
  } finally {
    client.release();
  }
}

/**
 * The connection URL with `{{username}}`/`{{password}}` filled in. A URL without a host (or none at all)
 * takes host, port and database from `fallbackUrl` (the dev server's default PostgreSQL).
 */
export function renderConnectionUrl(
  template: string,
  username: string,
  password: string,
  fallbackUrl?: string,
): string {
  const rendered = template
    .replace(/\{\{\s*username\s*\}\}/g, encodeURIComponent(username))
    .replace(/\{\{\s*password\s*\}\}/g, encodeURIComponent(password));
  if (!fallbackUrl) return rendered;
  const fallback = new URL(fallbackUrl);
  if (rendered === '') {
    if (username) fallback.username = encodeURIComponent(username);
    if (password) fallback.password = encodeURIComponent(password);
    return fallback.toString();
  }
  const hostless = /^(postgres(?:ql)?:\/\/)(?:([^@/]*)@)?(\/[^?]*)?(\?.*)?$/.exec(rendered);
  if (!hostless) return rendered;
  const [, scheme, creds, path, query] = hostless;
  const dbPath = path && path !== '/' ? path : fallback.pathname;
  return `${scheme}${creds ? `${creds}@` : ''}${fallback.host}${dbPath}${query ?? ''}`;
}

export function createPool(connectionString: string, max: number, log: Logger): Pool {
  const pool = new Pool({ connectionString, max, idleTimeoutMillis: 10_000 });
  // A client that dies (a terminated backend, a restarted server), idle or inside runInTransaction, must
  // not crash the process.
  return reportClientErrors(pool, (err) => log.warn({ error: err.message }, 'database pool client error'));
}
