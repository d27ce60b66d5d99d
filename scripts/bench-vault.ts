import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startDevVault } from '../server/dev/vault';
import type { Logger } from '../server/shared/logger';
import { createVaultAdapter, type MintedToken, type VaultAdapter } from '../server/vault';

export interface BenchVaultOptions {
  /** How long EACH phase (tokens, then credentials) runs. */
  durationMs: number;
  /** Parallel workers per phase. */
  concurrency: number;
  logger: Logger;
  /** A PostgreSQL superuser URL; a scratch database is created there and dropped after. */
  databaseUrl?: string;
}

export interface BenchVaultResult {
  tokensPerSec: number;
  credsPerSec: number;
  tokenP50Ms: number;
  tokenP99Ms: number;
  credsP50Ms: number;
  credsP99Ms: number;
}

// Hard cap per phase so the loops stop even if the clock misbehaves.
const MAX_OPS_PER_PHASE = 200_000;
const ROLE = 'bench';
// Minted roles join a group holding the privileges: concurrent GRANTs on one table fail with
// `tuple concurrently updated` (hashicorp/vault#1857), and a role with direct grants cannot be dropped.
const creation = (group: string) =>
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE "${group}";`;
const REVOCATION = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}'; DROP ROLE IF EXISTS "{{name}}";`;

const defaultDbUrl = () =>
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

const withDb = (url: string, name: string) =>
  Object.assign(new URL(url), { pathname: `/${name}` }).toString();

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return Math.round(v * 100) / 100;
}

type TimedCall = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Runs `op` from `concurrency` workers until `durationMs` has passed (or the op cap is hit). `op` wraps each
 * Vault call in `timed` and returns how many operations it completed.
 */
async function measure(durationMs: number, concurrency: number, op: (timed: TimedCall) => Promise<number>) {
  const latencies: number[] = [];
  const timed: TimedCall = async (fn) => {
    const t0 = performance.now();
    const out = await fn();
    latencies.push(performance.now() - t0);
    return out;
  };
  const started = performance.now();
  const end = started + durationMs;
  let count = 0;
  const worker = async () => {
    while (performance.now() < end && count < MAX_OPS_PER_PHASE) {
      // Not `count += await …`: that reads `count` before the await and loses the other workers' updates.
      const n = await op(timed);
      count += n;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    perSec: Math.round((count / seconds) * 10) / 10,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

async function configure(vault: VaultAdapter, dbUrl: string, dbName: string): Promise<void> {
  const u = new URL(withDb(dbUrl, dbName));
  await vault.write('database/config/bench', {
    plugin_name: 'postgresql-database-plugin',
    connection_url: `postgresql://{{username}}:{{password}}@${u.host}${u.pathname}${u.search}`,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    allowed_roles: [ROLE],
  });
  await vault.write(`database/roles/${ROLE}`, {
    db_name: 'bench',
    creation_statements: [creation(`${dbName}_reader`)],
    revocation_statements: [REVOCATION],
    default_ttl: '1h',
    max_ttl: '2h',
  });
  await vault.writePolicy('bench-parent', { path: { 'auth/token/create': { capabilities: ['update'] } } });
  await vault.writePolicy('bench-read', { path: { [`database/creds/${ROLE}`]: { capabilities: ['read'] } } });
}

/** Orphan task token + child grant token per iteration. They hold no leases and die with the private dev Vault. */
async function benchTokens(vault: VaultAdapter, o: BenchVaultOptions) {
  const policies = ['bench-parent', 'bench-read'];
  return measure(o.durationMs, o.concurrency, async (timed) => {
    const task = await timed(() =>
      vault.createOrphanToken({ policies, ttlSeconds: 600, displayName: 'bench-task' }),
    );
    await timed(() =>
      vault.createChildToken(task.clientToken, { policies, ttlSeconds: 300, displayName: 'bench-grant' }),
    );
    return 2;
  });
}

async function benchCreds(vault: VaultAdapter, o: BenchVaultOptions) {
  const task: MintedToken = await vault.createOrphanToken({
    policies: ['bench-parent', 'bench-read'],
    ttlSeconds: 3600,
    displayName: 'bench-task',
  });
  const grant = await vault.createChildToken(task.clientToken, {
    policies: ['bench-read'],
    ttlSeconds: 3600,
    displayName: 'bench-grant',
  });
  const result = await measure(o.durationMs, o.concurrency, async (timed) => {
    await timed(() => vault.readDynamicSecret(grant.clientToken, `database/creds/${ROLE}`));
    return 1;
  });
  await vault.revokeTokenByAccessor(task.accessor);
  await vault.revokeLeasePrefix(`database/creds/${ROLE}`);
  return result;
}

/**
 * Measures, through the real adapter against an in-process dev Vault, how fast Grantline can mint an orphan
 * task token plus a child grant token, and dynamic PostgreSQL credentials. Each phase runs `durationMs`
 * with `concurrency` workers. Every credential is revoked (its role dropped), the dev Vault closed and the
 * scratch database dropped afterwards.
 */
export async function benchVault(opts: BenchVaultOptions): Promise<BenchVaultResult> {
  if (
    !(opts.durationMs > 0) ||
    !Number.isInteger(opts.concurrency) ||
    opts.concurrency < 1 ||
    opts.concurrency > 256
  ) {
    throw new Error('benchVault: durationMs must be > 0 and concurrency an integer in 1..256');
  }
  const log = opts.logger.child({ module: 'bench-vault' });
  const quiet = opts.logger.child({ module: 'bench-vault' }, { level: 'warn' });
  const adminUrl = opts.databaseUrl ?? defaultDbUrl();
  const dbName = `gl_bench_${randomBytes(4).toString('hex')}`;
  await sql(adminUrl, `create database ${dbName}`);
  let dev: Awaited<ReturnType<typeof startDevVault>> | undefined;
  try {
    await sql(adminUrl, `create role ${dbName}_reader nologin`);
    const table = `create table orders (id int primary key); grant select on orders to ${dbName}_reader`;
    await sql(withDb(adminUrl, dbName), table);
    dev = await startDevVault({ port: 0, logger: quiet });
    const vault = createVaultAdapter(
      { addr: dev.url, token: dev.rootToken, timeoutMs: 10_000, retries: 0 },
      { logger: quiet },
    );
    await configure(vault, adminUrl, dbName);
    log.info({ durationMs: opts.durationMs, concurrency: opts.concurrency }, 'bench-vault: tokens');
    const tokens = await benchTokens(vault, opts);
    log.info(
      { durationMs: opts.durationMs, concurrency: opts.concurrency },
      'bench-vault: dynamic credentials',
    );
    const creds = await benchCreds(vault, opts);
    const result = {
      tokensPerSec: tokens.perSec,
      credsPerSec: creds.perSec,
      tokenP50Ms: tokens.p50,
      tokenP99Ms: tokens.p99,
      credsP50Ms: creds.p50,
      credsP99Ms: creds.p99,
    };
    log.info(result, 'bench-vault: done');
    return result;
  } finally {
    await dev?.close();
    await dropLeftovers(adminUrl, dbName);
  }
}

/** Roles whose revocation did not finish are dropped directly, then the scratch database and the group. */
async function dropLeftovers(adminUrl: string, dbName: string): Promise<void> {
  const left = await sql(
    adminUrl,
    `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
      join pg_roles g on g.oid = m.roleid where g.rolname = '${dbName}_reader'`,
  );
  for (const { rolname } of left.rows as { rolname: string }[]) {
    await sql(adminUrl, `drop role if exists "${rolname.replace(/"/g, '""')}"`);
  }
  await sql(adminUrl, `drop database if exists ${dbName} with (force)`);
  await sql(adminUrl, `drop role if exists ${dbName}_reader`);
}
