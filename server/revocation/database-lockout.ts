import pg from 'pg';
import { reportClientErrors } from '../db/client-errors';
import type { Logger } from '../shared/logger';

/**
 * PostgreSQL logins that Vault minted for grants, on the targets the broker can reach with an admin
 * connection (GRANTLINE_DB_TARGETS). Revocation never rests on Vault's revocation statements alone: the
 * broker takes the login away first, in a statement committed on its own, terminates the sessions only
 * after that (so none can be opened in between), and cleans up what the role owns separately, so a
 * failing cleanup (the holder made DROP ROLE fail, e.g. with ALTER DEFAULT PRIVILEGES) can never undo
 * the lockout. Then it proves the login dead.
 */
export interface DatabaseTargets {
  has(target: string): boolean;
  names(): string[];
  lockOut(target: string, role: string): Promise<void>;
  cleanUp(target: string, role: string): Promise<'dropped' | 'gone' | { deferred: string }>;
  verifyDead(target: string, role: string): Promise<LoginState>;
  /** Every login of a target whose name matches Vault's pattern for Grantline's roles (reconciliation). */
  listRoles(target: string, pattern: RegExp): Promise<string[]>;
  close(): Promise<void>;
}

export interface LoginState {
  exists: boolean;
  canLogin: boolean;
  sessions: number;
  dead: boolean;
}

const id = (name: string) => pg.escapeIdentifier(name);

const TERMINATE_WAIT_MS = 5000;

/**
 * Two sessions changing the same role at once (ours, and Vault's revocation statements run by a parent
 * token's cascade) make one fail with `tuple concurrently updated`: that one simply runs again.
 */
async function retryingConcurrentUpdates<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const concurrent = /tuple concurrently (updated|deleted)/.test((err as Error).message ?? '');
      if (!concurrent || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

/** `undefined_object`: the role was dropped meanwhile, which is what revocation wants anyway. */
function ifGone(err: unknown): void {
  if ((err as { code?: string }).code !== '42704') throw err;
}

export function createDatabaseTargets(urls: Record<string, string>, logger: Logger): DatabaseTargets {
  const pools = new Map<string, pg.Pool>();
  const log = logger.child({ module: 'db-lockout' });

  function poolFor(target: string, database?: string): pg.Pool {
    const base = urls[target];
    if (!base) throw new Error(`no admin connection for database target ${target}`);
    const key = `${target}\u0000${database ?? ''}`;
    let pool = pools.get(key);
    if (!pool) {
      const url = new URL(base);
      if (database) url.pathname = `/${encodeURIComponent(database)}`;
      pool = new pg.Pool({ connectionString: url.toString(), max: 4, idleTimeoutMillis: 10_000 });
      reportClientErrors(pool, (err) =>
        log.warn({ target, err: err.message }, 'database target connection error'),
      );
      pools.set(key, pool);
    }
    return pool;
  }

  async function roleExists(pool: pg.Pool, role: string): Promise<boolean> {
    const r = await pool.query('select 1 from pg_roles where rolname = $1', [role]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Databases (other than the target's own) where the role owns objects or holds privileges. */
  async function otherDatabases(pool: pg.Pool, role: string): Promise<string[]> {
    const r = await pool.query<{ datname: string }>(
      `select distinct d.datname from pg_shdepend s join pg_database d on d.oid = s.dbid
        where s.refclassid = 'pg_authid'::regclass
          and s.refobjid = (select oid from pg_roles where rolname = $1)
          and d.datname <> current_database()`,
      [role],
    );
    return r.rows.map((x) => x.datname);
  }

  async function disown(pool: pg.Pool, role: string): Promise<void> {
    await pool.query(`reassign owned by ${id(role)} to current_user`);
    await pool.query(`drop owned by ${id(role)}`);
  }

  return {
    has: (target) => target in urls,
    names: () => Object.keys(urls),

    async lockOut(target, role) {
      const pool = poolFor(target);
      if (!(await roleExists(pool, role))) return;
      // One statement, committed on its own: the login is gone before anything else is attempted. Vault
      // may be dropping the role at this very moment (a parent token's cascade): gone is fine too.
      await retryingConcurrentUpdates(() =>
        pool.query(`alter role ${id(role)} nologin password null valid until '-infinity'`),
      ).catch(ifGone);
      // With a timeout, pg_terminate_backend waits until each session is really gone (PostgreSQL ≥ 14).
      await pool.query('select pg_terminate_backend(pid, $2) from pg_stat_activity where usename = $1', [
        role,
        TERMINATE_WAIT_MS,
      ]);
    },

    async cleanUp(target, role) {
      const pool = poolFor(target);
      if (!(await roleExists(pool, role))) return 'gone';
      try {
        for (const database of await otherDatabases(pool, role))
          await disown(poolFor(target, database), role);
        await disown(pool, role);
        await pool.query(`drop role ${id(role)}`);
        return 'dropped';
      } catch (err) {
        if ((err as { code?: string }).code === '42704') return 'gone';
        return { deferred: (err as Error).message.slice(0, 300) };
      }
    },

    async verifyDead(target, role) {
      const r = await poolFor(target).query<{ can_login: boolean | null; sessions: string }>(
        `select (select rolcanlogin from pg_roles where rolname = $1) as can_login,
                (select count(*) from pg_stat_activity where usename = $1) as sessions`,
        [role],
      );
      const row = r.rows[0]!;
      const exists = row.can_login !== null;
      const sessions = Number(row.sessions);
      const canLogin = row.can_login === true;
      return { exists, canLogin, sessions, dead: !canLogin && sessions === 0 };
    },

    async listRoles(target, pattern) {
      const r = await poolFor(target).query<{ rolname: string }>(
        "select rolname from pg_roles where rolname like 'v-%'",
      );
      return r.rows.map((x) => x.rolname).filter((n) => pattern.test(n));
    },

    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end().catch(() => undefined)));
    },
  };
}
