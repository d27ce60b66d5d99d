import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGrantlineClient, devTrustDomain, type GrantlineClient } from '@grantline/sdk';
import pg from 'pg';
import { loadConfig } from '../../server/config/config';
import { mintDevJwtSvid } from '../../server/dev/identity/dev-trust-domain';
import { type Broker, startBroker } from '../../server/main';
import type { Clock } from '../../server/shared/clock';
import { createLogger } from '../../server/shared/logger';
import { createTestDatabase, type TestDatabase, testServerUrl } from './database';

export const ORCHESTRATOR = 'spiffe://dev.grantline.local/orchestrator/planner';
export const AGENT_A = 'spiffe://dev.grantline.local/agent/researcher';
export const AGENT_B = 'spiffe://dev.grantline.local/agent/summariser';
export const AGENT_C = 'spiffe://dev.grantline.local/agent/fetcher';
export const STRANGER = 'spiffe://dev.grantline.local/agent/stranger';
export const AUDITOR = 'spiffe://dev.grantline.local/auditor/compliance';
export const RESOURCE = 'spiffe://dev.grantline.local/resource/orders-api';
/** An approver workload: a system that records a person's consent (the orchestrator never approves). */
export const APPROVER = 'spiffe://dev.grantline.local/approver/alice-desk';

export interface TestBroker {
  broker: Broker;
  db: TestDatabase;
  home: string;
  demoDatabase: string;
  logs: string[];
  /** A JWT-SVID for `spiffeId` from the dev trust domain. */
  svid(spiffeId: string): Promise<string>;
  /**
   * An `@grantline/sdk` client acting as `spiffeId` (JWT-SVIDs from the broker's dev trust domain): what a
   * workload's own code would call. Raw `call` stays for tests of the wire format.
   */
  client(spiffeId: string): GrantlineClient;
  /** Calls the broker as `as` (a SPIFFE ID) with JSON. */
  call(
    method: string,
    urlPath: string,
    opts?: { as?: string; body?: unknown; form?: Record<string, string>; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** A broker on its own database, dev Vault, dev trust domain and home directory, on a random port. */
export async function startTestBroker(
  opts: { clock?: Clock; env?: Record<string, string>; manualBackground?: boolean } = {},
): Promise<TestBroker> {
  const db = await createTestDatabase({ migrate: false });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-home-'));
  const demoDatabase = `grantline_demo_${randomBytes(5).toString('hex')}`;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const config = loadConfig({
    DATABASE_URL: db.url,
    GRANTLINE_HOME: home,
    GRANTLINE_PORT: '0',
    GRANTLINE_WORKER_INTERVAL_MS: '200',
    // The in-process dev Vault even where OpenBao is installed: these tests seal, stop and tick it.
    GRANTLINE_VAULT: 'dev',
    ...opts.env,
  });
  const broker = await startBroker(config, {
    logger,
    demoDatabase,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.manualBackground ? { manualBackground: true } : {}),
  });
  const svid = devSvids(home);
  const clients = clientsFor(broker.url, home, opts.clock);
  return {
    broker,
    db,
    home,
    demoDatabase,
    logs,
    svid,
    client: clients.client,
    call: callerFor(broker.url, svid),
    async stop() {
      await clients.closeAll();
      await broker.stop();
      await db.drop();
      const admin = new pg.Client({ connectionString: testServerUrl() });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${demoDatabase} with (force)`);
        // Logins of grants still active when the test ended die with the in-memory dev Vault unrevoked;
        // they are cluster-wide roles, so drop the group's members too.
        const members = await admin.query<{ rolname: string }>(
          `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
           join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
          [`${demoDatabase}_readers`],
        );
        for (const { rolname } of members.rows)
          await admin.query(`drop role if exists "${rolname.replace(/"/g, '""')}"`);
        await admin.query(`drop role if exists ${demoDatabase}_readers`);
      } finally {
        await admin.end();
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** An SDK client for tests: quick retries (the broker is local), otherwise as a workload would use it. */
export function sdkClient(url: string, identity: Parameters<typeof createGrantlineClient>[0]['identity']) {
  return createGrantlineClient({ url, identity, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
}

/**
 * One SDK client per SPIFFE ID for the broker at `url`, with SVIDs from the dev trust domain in `home`,
 * minted and refreshed on the broker's clock (a test that advances a manual clock must not see them expire).
 */
export function clientsFor(url: string, home: string, clock?: Clock) {
  const clients = new Map<string, GrantlineClient>();
  return {
    client(spiffeId: string): GrantlineClient {
      let c = clients.get(spiffeId);
      if (!c) {
        const now = clock ? () => clock.now().getTime() : undefined;
        c = sdkClient(url, devTrustDomain({ spiffeId, home, ...(now ? { now } : {}) }));
        clients.set(spiffeId, c);
      }
      return c;
    },
    async closeAll() {
      for (const c of clients.values()) await c.close();
      clients.clear();
    },
  };
}

/** JWT-SVIDs from the dev trust domain under `home`, one per SPIFFE ID, reused for the test's life. */
export function devSvids(home: string): (spiffeId: string) => Promise<string> {
  const svids = new Map<string, Promise<string>>();
  return (spiffeId) => {
    if (!svids.has(spiffeId))
      svids.set(spiffeId, mintDevJwtSvid({ home, spiffeId, audience: 'grantline', ttlSeconds: 3000 }));
    return svids.get(spiffeId)!;
  };
}

/** JSON (or form) requests to a broker at `baseUrl`, authenticated as `o.as` with a dev JWT-SVID. */
export function callerFor(baseUrl: string, svid: (spiffeId: string) => Promise<string>): TestBroker['call'] {
  return async (method, urlPath, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.as) headers.authorization = `Bearer ${await svid(o.as)}`;
    let body: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    } else if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

/** Polls `check` until it returns true or the deadline passes. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 10000,
  stepMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A client for a minted login on the demo database of the server at `serverUrl` (not connected yet). */
export function demoLoginClient(
  serverUrl: string,
  database: string,
  creds: { username: string; password: string },
): pg.Client {
  const u = new URL(serverUrl);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port || 5432),
    database,
    user: creds.username,
    password: creds.password,
    connectionTimeoutMillis: 3000,
  });
  // A session terminated by the revocation statements emits 'error'; callers read that via query().
  client.on('error', () => undefined);
  return client;
}

/** Tries a PostgreSQL login with minted credentials; returns the error message or null on success. */
export async function tryLogin(
  t: TestBroker,
  creds: { username: string; password: string },
  query = 'select count(*)::int as n from demo_orders',
) {
  const client = demoLoginClient(t.db.url, t.demoDatabase, creds);
  try {
    await client.connect();
    const r = await client.query(query);
    return { ok: true as const, rows: r.rows, client };
  } catch (err) {
    await client.end().catch(() => undefined);
    return { ok: false as const, error: (err as Error).message };
  }
}

export function openTaskBody(overrides: Record<string, unknown> = {}) {
  return {
    purpose: 'summarise last quarter orders',
    agents: [AGENT_A],
    // The sub-agents the delegation stories hand grants to (offers may only name admitted workloads).
    delegates: [AGENT_B, AGENT_C],
    scopes: ['db:demo:read', 'kv:demo/api-key', 'tool:demo:deploy'],
    ttl: '30m',
    limits: { max_grants: 50, max_active: 20, max_depth: 3, max_fanout: 3, budget: 100 },
    context: { task_type: 'analysis', data_sensitivity: 'medium', risk_score: 10 },
    ...overrides,
  };
}
