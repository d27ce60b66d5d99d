import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { type DevVault, type DevVaultOptions, startDevVault } from '../../../../server/dev/vault';
import { ManualClock } from '../../../../server/shared/clock';
import { createLogger } from '../../../../server/shared/logger';

export const logger = createLogger({ level: process.env.DEVVAULT_TEST_LOG_LEVEL ?? 'silent' });

export interface VaultReply {
  status: number;
  body: Record<string, unknown> | null;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
}

/**
 * One HTTP call to the dev server; the root token is used unless `token` says otherwise. Each call opens
 * its own connection (`agent: false`) so a pooled socket from before a stop()/start() is never reused.
 */
export function call(
  vault: DevVault,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<VaultReply> {
  const token = opts.token === undefined ? vault.rootToken : opts.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers['X-Vault-Token'] = token;
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = http.request(`${vault.url}/v1/${path}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const dataOf = (r: VaultReply): Record<string, unknown> => r.body?.data as Record<string, unknown>;
export const authOf = (r: VaultReply): Record<string, unknown> => r.body?.auth as Record<string, unknown>;

/** A dev server on a ManualClock whose timer stays out of the way: the tests move time and call tick(). */
export async function startManualVault(extra: Partial<DevVaultOptions> = {}) {
  const clock = new ManualClock();
  const vault = await startDevVault({ port: 0, logger, clock, expiryIntervalMs: 3_600_000, ...extra });
  return { vault, clock };
}

/** Creates a token under `parent` (default root) and returns its id and accessor. */
export async function createToken(vault: DevVault, body: Record<string, unknown>, parent?: string) {
  const r = await call(vault, 'POST', 'auth/token/create', { body, ...(parent ? { token: parent } : {}) });
  if (r.status !== 200) throw new Error(`token create failed: ${r.status} ${r.text}`);
  const auth = authOf(r);
  return { token: auth.client_token as string, accessor: auth.accessor as string, reply: r };
}

export async function writePolicy(
  vault: DevVault,
  name: string,
  paths: Record<string, string[]>,
): Promise<void> {
  const doc = {
    path: Object.fromEntries(Object.entries(paths).map(([p, caps]) => [p, { capabilities: caps }])),
  };
  const r = await call(vault, 'PUT', `sys/policies/acl/${name}`, { body: { policy: JSON.stringify(doc) } });
  if (r.status !== 204) throw new Error(`policy write failed: ${r.status} ${r.text}`);
}

export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  return url;
}

export function urlFor(database: string, user?: string, password?: string): string {
  const u = new URL(testServerUrl());
  u.pathname = `/${database}`;
  if (user !== undefined) u.username = encodeURIComponent(user);
  if (password !== undefined) u.password = encodeURIComponent(password);
  return u.toString();
}

async function asAdmin<T>(fn: (c: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client({ connectionString: database ? urlFor(database) : testServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A uniquely named scratch database with one table, dropped (with every role the tests made) after. */
export async function createScratchDatabase() {
  const name = `grantline_devvault_${randomBytes(5).toString('hex')}`;
  await asAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  await asAdmin(async (c) => {
    await c.query('CREATE TABLE orders (id int primary key, item text)');
    await c.query("INSERT INTO orders VALUES (1, 'widget')");
  }, name);
  return {
    name,
    query: <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      asAdmin((c) => c.query<T>(sql, params), name),
    async roleExists(role: string): Promise<boolean> {
      const r = await asAdmin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]));
      return (r.rowCount ?? 0) > 0;
    },
    async drop(usernames: string[]): Promise<void> {
      await asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      for (const u of usernames)
        await asAdmin((c) => c.query(`DROP ROLE IF EXISTS "${u.replace(/"/g, '""')}"`));
    },
  };
}

/** Logs in with the given credentials and reads the table; rejects when the login fails. */
export async function loginAndSelect(
  database: string,
  username: string,
  password: string,
): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: urlFor(database, username, password) });
  await client.connect();
  try {
    const r = await client.query('SELECT item FROM orders');
    return r.rows;
  } finally {
    await client.end();
  }
}

export async function canLogin(database: string, username: string, password: string): Promise<boolean> {
  try {
    await loginAndSelect(database, username, password);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `check` is true or the deadline passes (revocations through tokens are asynchronous). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
