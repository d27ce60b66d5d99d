import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { initDevTrustDomain } from '../server/dev/identity/dev-trust-domain';
import { configureLocalVault } from '../server/dev/local-vault-setup';
import { systemClock } from '../server/shared/clock';
import { createLogger } from '../server/shared/logger';
import { generateSigningKeyPem } from '../server/tokens/key-material';
import { createVaultAdapter } from '../server/vault';
import { adminQuery, withDatabase } from './bench-harness';
import { type LoadProcess, startLoadProcess } from './bench-load-process';
import {
  type BrokerProcess,
  cleanEnv,
  memoryOf,
  startBrokerProcess,
  startDevVaultProcess,
  startOpenBaoProcess,
  type VaultKind,
  type VaultProcess,
} from './bench-processes';

export interface Stack {
  vault: VaultProcess;
  broker: BrokerProcess;
  load: LoadProcess;
  dbName: string;
  /** Peak and current RSS of each broker worker so far. */
  memory(): Array<{ pid: number; rssMb: number; peakMb: number }>;
  stop(): Promise<void>;
}

export interface StackOptions {
  adminUrl: string;
  kind: VaultKind;
  workers: number;
  logDir: string;
  /** Set: the broker's processes run with `--cpu-prof` and write their profiles here on exit. */
  profileDir?: string;
}

const quiet = createLogger({ level: 'warn' }, { write: () => undefined });

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The postmaster of the PostgreSQL the bench uses (the checkpointer's parent), for CPU accounting. */
async function postmasterPid(adminUrl: string): Promise<number> {
  const r = await adminQuery(
    adminUrl,
    "select pid from pg_stat_activity where backend_type = 'checkpointer'",
  );
  try {
    const stat = fs.readFileSync(`/proc/${Number(r.rows[0]?.pid)}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1; // PostgreSQL runs on another machine: its CPU is not counted
  }
}

/** Drops the scratch databases, any login Vault left in the demo group, then the group. */
export async function dropScratch(adminUrl: string, dbName: string, demoDatabase: string): Promise<void> {
  await adminQuery(adminUrl, `drop database if exists ${dbName} with (force)`);
  await adminQuery(adminUrl, `drop database if exists ${demoDatabase} with (force)`);
  const group = `${demoDatabase}_readers`;
  const left = await adminQuery(
    adminUrl,
    `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
      join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
    [group],
  );
  for (const { rolname } of left.rows as { rolname: string }[])
    await adminQuery(adminUrl, `drop role if exists "${rolname.replace(/"/g, '""')}"`);
  await adminQuery(adminUrl, `drop role if exists ${group}`);
}

/** A GRANTLINE_HOME with the dev trust domain (the SVIDs' issuer) and a signing key file, as production has. */
async function makeHome(): Promise<{ home: string; keyFile: string; bundle: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-bench-'));
  const domain = await initDevTrustDomain(home);
  fs.mkdirSync(path.join(home, 'keys'), { mode: 0o700 });
  const keyFile = path.join(home, 'keys', 'bench-signing-key.pem');
  fs.writeFileSync(keyFile, generateSigningKeyPem(), { mode: 0o600 });
  return { home, keyFile, bundle: domain.bundlePath };
}

interface BrokerSetup {
  vault: VaultProcess;
  dbUrl: string;
  home: string;
  keyFile: string;
  bundle: string;
  targets: Record<string, string>;
}

/** The broker's settings as production has them: its own database, Vault, trust bundle file and key file. */
async function brokerEnv(q: BrokerSetup) {
  const port = await freePort();
  return {
    ...cleanEnv(),
    DATABASE_URL: q.dbUrl,
    VAULT_ADDR: q.vault.addr,
    VAULT_TOKEN: q.vault.token,
    GRANTLINE_HOME: q.home,
    GRANTLINE_PORT: String(port),
    GRANTLINE_OPERATOR_PORT: String(await freePort()),
    GRANTLINE_DB_TARGETS: JSON.stringify(q.targets),
    GRANTLINE_SIGNING_KEY_FILE: q.keyFile,
    // The SVIDs come from the dev trust domain's keys, but the broker reads its bundle as a file, as it
    // would SPIRE's: not the dev trust domain code path.
    GRANTLINE_TRUST_DOMAIN: 'dev.grantline.local',
    GRANTLINE_TRUST_BUNDLE: q.bundle,
    GRANTLINE_LOG_LEVEL: process.env.BENCH_BROKER_LOG_LEVEL ?? 'info',
  };
}

/**
 * One Vault (the dev Vault standalone, or OpenBao dev) configured as the local Vault is (demo database
 * role, policies, KV), a scratch broker database, `grantline serve --workers N` on it, and the load
 * process: four kinds of process, none sharing an event loop. Undefined when OpenBao is not installed.
 */
export async function startStack(o: StackOptions): Promise<Stack | undefined> {
  const vault = o.kind === 'openbao' ? await startOpenBaoProcess() : await startDevVaultProcess(o.adminUrl);
  if (!vault) return undefined;
  const suffix = randomBytes(5).toString('hex');
  const dbName = `grantline_bench_${suffix}`;
  const demoDatabase = `grantline_bench_demo_${suffix}`;
  const { home, keyFile, bundle } = await makeHome();
  const cleanups: Array<() => Promise<void>> = [
    () => vault.stop(),
    async () => fs.rmSync(home, { recursive: true, force: true }),
    () => dropScratch(o.adminUrl, dbName, demoDatabase),
  ];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((e) => console.error(`bench cleanup: ${e}`));
  };
  try {
    await adminQuery(o.adminUrl, `create database ${dbName}`);
    const adapter = createVaultAdapter(
      { addr: vault.addr, token: vault.token, timeoutMs: 10_000 },
      { logger: quiet },
    );
    // OpenBao dev mounts KV v2 only; the dev Vault has the database engine built in.
    if (o.kind === 'openbao') await adapter.write('sys/mounts/database', { type: 'database' });
    const local = await configureLocalVault(adapter, {
      logger: quiet,
      clock: systemClock,
      databaseUrl: o.adminUrl,
      demoDatabase,
    });
    const dbUrl = withDatabase(o.adminUrl, dbName);
    const env = await brokerEnv({ vault, dbUrl, home, keyFile, bundle, targets: local.databaseTargets });
    // A fresh checkout has no .bench/ yet (it is git-ignored).
    fs.mkdirSync(o.logDir, { recursive: true });
    const logFile = path.join(o.logDir, `broker-${o.kind}.log`);
    const execArgv = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [];
    const broker = await startBrokerProcess({ env, workers: o.workers, logFile, execArgv });
    cleanups.push(() => broker.stop());
    const load = await startLoadProcess({
      brokerUrl: broker.url,
      home,
      dbUrl,
      dbName,
      vault: { addr: vault.addr, token: vault.token },
      configDir: path.resolve(__dirname, '..', '..', 'config'),
      pids: { broker: broker.pid, vault: vault.pid, postgres: await postmasterPid(o.adminUrl) },
    });
    cleanups.push(() => load.stop());
    const memory = () =>
      broker.workerPids().flatMap((pid) => {
        const m = memoryOf(pid);
        return m ? [{ pid, ...m }] : [];
      });
    return { vault, broker, load, dbName, memory, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
