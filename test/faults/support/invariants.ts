import pg from 'pg';
import { demoGroupRole } from '../../../server/dev/postgres/demo-database';
import { AUDITOR, demoLoginClient, ORCHESTRATOR } from '../../helpers/broker';
import type { BrokerProcess } from './broker-process';
import type { FaultWorld } from './fault-world';

/** A login some grant's secret carried: its password is tried against the database at the end. */
export interface MintedLogin {
  username: string;
  password: string;
}

/** The logins of `minted` that still connect to the demo database (each is tried for real). */
export async function workingLogins(world: FaultWorld, minted: MintedLogin[]): Promise<string[]> {
  const working: string[] = [];
  for (const creds of minted) {
    const client = demoLoginClient(world.demoUrl, world.demoDatabase, creds);
    try {
      await client.connect();
      working.push(creds.username);
    } catch {
      // refused: what revocation promises
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return working;
}

/**
 * Every login Vault made for the demo scope (members of the demo group), including ones whose password
 * the test never saw (a broker killed before answering): those that can still log in, or have a session.
 */
export async function liveDemoLogins(world: FaultWorld): Promise<string[]> {
  const admin = new pg.Client({ connectionString: world.demoUrl });
  await admin.connect();
  try {
    const r = await admin.query<{ rolname: string }>(
      `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
        join pg_roles g on g.oid = m.roleid
       where g.rolname = $1
         and ((r.rolcanlogin and coalesce(r.rolvaliduntil, 'infinity') > now())
              or exists (select 1 from pg_stat_activity a where a.usename = r.rolname))`,
      [demoGroupRole(world.demoDatabase)],
    );
    return r.rows.map((x) => x.rolname);
  } finally {
    await admin.end();
  }
}

/** Every login Vault made for the demo scope so far (dropped ones are gone from pg_roles, so: ever seen). */
export async function demoLoginCount(world: FaultWorld): Promise<number> {
  const admin = new pg.Client({ connectionString: world.demoUrl });
  await admin.connect();
  try {
    const r = await admin.query<{ n: number }>(
      `select count(*)::int as n from pg_auth_members m join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
      [demoGroupRole(world.demoDatabase)],
    );
    return r.rows[0]!.n;
  } finally {
    await admin.end();
  }
}

export interface LiveVaultHandles {
  /** Tokens alive in Vault that were not there before the brokers ran, with the meta naming their owner. */
  tokens: Array<{ accessor: string; meta: Record<string, string> | null }>;
  /** Leases alive under the dynamic scope's path. */
  leases: string[];
  /** Recorded accessors and lease ids (the grants' and tasks' rows) that still look up. */
  recorded: string[];
}

/** Asks Vault, by listing and by looking up each recorded handle, what is still alive. */
export async function liveVaultHandles(world: FaultWorld): Promise<LiveVaultHandles> {
  const tokens: LiveVaultHandles['tokens'] = [];
  for (const accessor of await world.vault.listTokenAccessors()) {
    if (world.baselineAccessors.has(accessor)) continue;
    const info = await world.vault.lookupTokenByAccessor(accessor);
    if (info) tokens.push({ accessor, meta: info.meta });
  }
  const leases = await world.vault.listLeases('database/creds/demo-read/');
  const rows = await world.db.db
    .selectFrom('leases')
    .select(['vault_lease_id', 'vault_token_accessor'])
    .execute();
  const tasks = await world.db.db.selectFrom('tasks').select('vault_token_accessor').execute();
  const recorded: string[] = [];
  for (const r of rows)
    if (r.vault_lease_id && (await world.vault.lookupLease(r.vault_lease_id)))
      recorded.push(r.vault_lease_id);
  const accessors = new Set([
    ...rows.map((r) => r.vault_token_accessor),
    ...tasks.map((t) => t.vault_token_accessor),
  ]);
  for (const a of accessors) if (a && (await world.vault.lookupTokenByAccessor(a))) recorded.push(a);
  return { tokens, leases, recorded };
}

/** Receipts (asked of `broker`) that are not complete, with their status and lease states. */
export async function incompleteReceipts(broker: BrokerProcess, taskIds: string[]) {
  const incomplete: Array<{ taskId: string; status: number; body: unknown }> = [];
  for (const taskId of taskIds) {
    const r = await broker.call('GET', `/v1/tasks/${taskId}/receipt`, { as: ORCHESTRATOR });
    if (r.status !== 200 || r.body.complete !== true)
      incomplete.push({ taskId, status: r.status, body: r.status === 200 ? r.body.summary : r.body });
  }
  return incomplete;
}

/** The audit chain as the auditor sees it verified (`ok`, `checked`, `head_seq`). */
export async function auditVerification(broker: BrokerProcess) {
  const r = await broker.call('GET', '/v1/audit/verify', { as: AUDITOR });
  return { status: r.status, ...(r.body as { ok: boolean; checked: number; broken_at?: unknown }) };
}

/** Every task of the world's database: its id and status. */
export async function allTasks(world: FaultWorld) {
  return world.db.db.selectFrom('tasks').select(['id', 'status']).execute();
}

/** Waits until no task is open or closing and no revocation job is pending (or the deadline passes). */
export async function settled(world: FaultWorld, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = await world.db.db
      .selectFrom('tasks')
      .select('id')
      .where('status', 'in', ['open', 'closing'])
      .limit(1)
      .execute();
    const jobs = await world.db.db
      .selectFrom('revocation_jobs')
      .select('id')
      .where('status', '=', 'pending')
      .limit(1)
      .execute();
    if (busy.length === 0 && jobs.length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A login left alive, placed against the kills: Vault's username template ends in the login's creation
 * time (unix seconds), so the kill it came from is the one at (or just after) that second.
 */
export function placeLeftoverLogins(logins: string[], kills: Array<{ point: string; at: Date }>) {
  return logins.map((login) => {
    const unix = /-(\d{9,11})$/.exec(login)?.[1];
    const created = unix ? new Date(Number(unix) * 1000) : null;
    const next = created ? kills.find((k) => k.at.getTime() >= created.getTime() - 1000) : undefined;
    return {
      login,
      created: created?.toISOString() ?? null,
      nextKill: next ? { point: next.point, at: next.at.toISOString() } : null,
    };
  });
}

/**
 * The end state every crash and outage scenario must reach, all at once (a failure shows every broken
 * promise, not the first): no minted password logs in, no login of Vault's lives, Vault holds nothing of
 * Grantline's, every receipt is complete and the audit log verifies. Compare with NOTHING_LEFT_ALIVE.
 */
export async function nothingLeftAlive(world: FaultWorld, broker: BrokerProcess, minted: MintedLogin[]) {
  return {
    workingLogins: await workingLogins(world, minted),
    liveDemoLogins: await liveDemoLogins(world),
    liveVault: await liveVaultHandles(world),
    incompleteReceipts: await incompleteReceipts(
      broker,
      (await allTasks(world)).map((t) => t.id),
    ),
    audit: await auditVerification(broker),
  };
}

export const NOTHING_LEFT_ALIVE = {
  workingLogins: [],
  liveDemoLogins: [],
  liveVault: { tokens: [], leases: [], recorded: [] },
  incompleteReceipts: [],
  audit: expect.objectContaining({ status: 200, ok: true }),
};
