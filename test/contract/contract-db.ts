import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The superuser URL the tests themselves use (jest global setup provides it). */
export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run contract tests through jest (global setup)');
  return url;
}

/** The PostgreSQL URL as seen from Vault (it may run elsewhere, e.g. in a container). */
export const vaultSideDbUrl = (): string => process.env.CONTRACT_VAULT_DB_URL ?? testServerUrl();

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDb {
  name: string;
  /** NOLOGIN group role holding SELECT on `orders`; minted roles are made members of it. */
  readerRole: string;
  /** Superuser URL of the scratch database, for the tests. */
  url: string;
  roleExists(role: string): Promise<boolean>;
  /** Minted roles still present: the members of `readerRole`. */
  mintedRoles(): Promise<string[]>;
  /** A login as a minted user, the way an agent would use the credentials. */
  connectAs(user: string, password: string): Promise<pg.Client>;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, with a table and a group role that may read it. Minted roles
 * join the group instead of being granted on the table: concurrent GRANT/REVOKE on one table fail with
 * `tuple concurrently updated` (hashicorp/vault#1857), and a role holding privileges cannot be dropped.
 */
export async function createScratchDb(tag: string): Promise<ScratchDb> {
  const name = `gl_contract_${tag}_${randomBytes(4).toString('hex')}`;
  const readerRole = `${name}_reader`;
  await withClient(testServerUrl(), async (c) => {
    await c.query(`create database ${name}`);
    await c.query(`create role ${readerRole} nologin`);
  });
  const url = withDatabase(testServerUrl(), name);
  await withClient(url, async (c) => {
    await c.query('create table orders (id int primary key, item text not null)');
    await c.query(`insert into orders values (1, 'apples'), (2, 'pears')`);
    await c.query(`grant select on orders to ${readerRole}`);
  });
  return {
    name,
    readerRole,
    url,
    roleExists: (role) =>
      withClient(
        url,
        async (c) => (await c.query('select 1 from pg_roles where rolname = $1', [role])).rowCount === 1,
      ),
    mintedRoles: () =>
      withClient(url, async (c) => {
        const sql = `select r.rolname from pg_auth_members m
          join pg_roles r on r.oid = m.member join pg_roles g on g.oid = m.roleid where g.rolname = $1`;
        return (await c.query<{ rolname: string }>(sql, [readerRole])).rows.map((r) => r.rolname);
      }),
    async connectAs(user, password) {
      const u = new URL(url);
      u.username = encodeURIComponent(user);
      u.password = encodeURIComponent(password);
      const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
      // A terminated session emits 'error' on the client; the tests observe it through failing queries.
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    async drop() {
      await withClient(testServerUrl(), async (c) => {
        await c.query(`drop database if exists ${name} with (force)`);
        await c.query(`drop role if exists ${readerRole}`);
      });
    },
  };
}

/** Drops roles a failed test may have left behind (they are cluster-wide, unlike the database). */
export async function dropRoles(scratch: ScratchDb, roles: string[]): Promise<void> {
  await withClient(scratch.url, async (c) => {
    for (const role of roles) {
      const exists = (await c.query('select 1 from pg_roles where rolname = $1', [role])).rowCount === 1;
      if (!exists) continue;
      const quoted = `"${role.replace(/"/g, '""')}"`;
      await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]);
      await c.query(`drop role if exists ${quoted}`);
    }
  });
}

/** Polls `check` until it returns true or the deadline passes (Vault drops DB users asynchronously). */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 150));
  }
}
