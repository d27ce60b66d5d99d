import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GrantContext, OpenTaskRequest } from '@grantline/sdk';
import { sql } from 'kysely';
import { AGENT_A, ORCHESTRATOR, openTaskBody, RESOURCE, type TestBroker } from './broker';

/**
 * Small steps the integration stories share: open a task, ask for a grant, read what the broker stored.
 * Each step asserts nothing itself; tests assert on what it returns.
 */

export interface GrantRequest {
  as?: string;
  audience?: string;
  ttl?: number | string;
  context?: Record<string, unknown>;
}

/** Opens a task as the orchestrator (through the SDK) and returns its id; a refusal throws. */
export async function openTask(t: TestBroker, overrides: Record<string, unknown> = {}): Promise<string> {
  const task = await t.client(ORCHESTRATOR).tasks.open(openTaskBody(overrides) as OpenTaskRequest);
  return task.id;
}

export function requestGrant(t: TestBroker, taskId: string, scopes: string[], o: GrantRequest = {}) {
  return t.call('POST', `/v1/tasks/${taskId}/grants`, {
    as: o.as ?? AGENT_A,
    body: {
      scopes,
      audience: o.audience ?? 'orders-api',
      ttl: o.ttl ?? '10m',
      context: o.context ?? { tool: 'test' },
    },
  });
}

/** Requests a grant as the agent's own code would (through the SDK); a refusal throws a BrokerError. */
export async function grantOk(t: TestBroker, taskId: string, scopes: string[], o: GrantRequest = {}) {
  const grant = await t.client(o.as ?? AGENT_A).grants.request(taskId, {
    scopes,
    audience: o.audience ?? 'orders-api',
    ttl: o.ttl ?? '10m',
    context: (o.context ?? { tool: 'test' }) as GrantContext,
  });
  return grant as unknown as GrantBody;
}

/**
 * `from` offers a delegation of `parentId` to `to`, and `to` redeems it with its own SVID (RFC 8693), both
 * through the SDK. Returns the child grant.
 */
export async function delegateOk(
  t: TestBroker,
  q: { from: string; parentId: string; to: string; scopes: string[] } & Record<string, unknown>,
) {
  const { from, parentId, to, scopes, ...rest } = q;
  const offer = await t.client(from).grants.delegate(parentId, { to, scopes, ttl: 300, ...rest });
  return (await t.client(to).grants.redeem(offer.delegation_token)) as unknown as GrantBody;
}

export interface GrantBody {
  iss: string;
  grant_id: string;
  task_id: string;
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  secrets: Array<{
    scope: string;
    kind: string;
    data: Record<string, string>;
    lease_id: string | null;
    lease_duration: number | null;
  }>;
}

export async function introspect(t: TestBroker, token: string, as = RESOURCE) {
  return t.call('POST', '/oauth2/introspect', { as, form: { token } });
}

/** The task's counters straight from PostgreSQL. */
export async function taskRow(t: TestBroker, taskId: string) {
  return t.db.db
    .selectFrom('tasks')
    .select(['status', 'grants_issued', 'active_grants', 'budget_spent', 'actions_spent'])
    .where('id', '=', taskId)
    .executeTakeFirstOrThrow();
}

export async function grantRows(t: TestBroker, taskId: string) {
  return t.db.db.selectFrom('grants').selectAll().where('task_id', '=', taskId).execute();
}

export async function leaseRows(t: TestBroker, taskId: string) {
  return t.db.db
    .selectFrom('leases')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('created_at')
    .execute();
}

export async function auditEvents(t: TestBroker, taskId: string) {
  return t.db.db
    .selectFrom('audit_events')
    .select(['seq', 'type', 'grant_id', 'principal', 'payload'])
    .where('task_id', '=', taskId)
    .orderBy('seq')
    .execute();
}

/** Every row of every table in the public schema, as JSON text (to search for secrets). */
export async function dumpAllTables(t: TestBroker): Promise<string[]> {
  const tables = await sql<{
    tablename: string;
  }>`select tablename from pg_tables where schemaname = 'public'`.execute(t.db.db);
  const rows: string[] = [];
  for (const { tablename } of tables.rows) {
    const r = await sql<{
      j: string;
    }>`select row_to_json(x)::text as j from ${sql.table(tablename)} x`.execute(t.db.db);
    rows.push(...r.rows.map((x) => `${tablename}: ${x.j}`));
  }
  return rows;
}

/** Sends a raw body with chosen headers (for malformed or oversize input). */
export async function rawCall(
  t: TestBroker,
  method: string,
  urlPath: string,
  o: { as?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.as) headers.authorization = `Bearer ${await t.svid(o.as)}`;
  const res = await fetch(`${t.broker.url}${urlPath}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: o.body } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body, headers: res.headers } as Awaited<ReturnType<TestBroker['call']>>;
}

/**
 * A copy of the shipped `config/` (policies and scopes) in a temporary directory, with `extraScopes`
 * merged into scopes.json; point a broker at it with `GRANTLINE_CONFIG_DIR`.
 */
export function configDirWithScopes(extraScopes: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-config-'));
  const source = path.resolve(__dirname, '../../config');
  fs.cpSync(source, dir, { recursive: true });
  const file = path.join(dir, 'scopes.json');
  const scopes = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...scopes, ...extraScopes }, null, 2));
  return dir;
}

/** sha256:<hex> of a string, the shape `args_digest` takes. */
export function argsDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
