import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../server/config/config';
import { createDb, type DbHandle } from '../server/db/pool';
import { mintDevJwtSvid } from '../server/dev/identity/dev-trust-domain';
import { type Broker, startBroker } from '../server/main';
import { createLogger } from '../server/shared/logger';

/** The identities the bench acts as, all in the dev trust domain. */
export const ORCHESTRATOR = 'spiffe://dev.grantline.local/orchestrator/bench';
export const AUDITOR = 'spiffe://dev.grantline.local/auditor/bench';
export const RESOURCE = 'spiffe://dev.grantline.local/resource/bench';
export const agentId = (name: string | number) => `spiffe://dev.grantline.local/agent/bench-${name}`;

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

export function serverUrl(): string {
  return (
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

export interface HttpResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes, read by field
  body: any;
}

export interface CallOptions {
  as?: string;
  json?: unknown;
  form?: Record<string, string>;
}

export interface BenchHttp {
  call(method: string, urlPath: string, o?: CallOptions): Promise<HttpResult>;
  svid(spiffeId: string): Promise<string>;
  close(): void;
}

/** A keep-alive HTTP client (node:http, lighter than fetch on a 2-core box) that caches one JWT-SVID per identity. */
export function createBenchHttp(baseUrl: string, home: string): BenchHttp {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const svids = new Map<string, Promise<string>>();
  const svid = (spiffeId: string) => {
    let s = svids.get(spiffeId);
    if (!s) {
      s = mintDevJwtSvid({ home, spiffeId, audience: 'grantline', ttlSeconds: 3000 });
      svids.set(spiffeId, s);
    }
    return s;
  };
  async function call(method: string, urlPath: string, o: CallOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = {};
    if (o.as) headers.authorization = `Bearer ${await svid(o.as)}`;
    let payload: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(o.form).toString();
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(o.json);
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    return send(new URL(urlPath, baseUrl), method, headers, payload, agent);
  }
  return { call, svid, close: () => agent.destroy() };
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  agent: http.Agent,
) {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = http.request(url, { method, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text for the error message
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Throws with the status and body unless the response has the expected status. */
export function expectStatus(res: HttpResult, status: number, what: string): HttpResult {
  if (res.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
    );
  }
  return res;
}

export interface BenchBroker {
  broker: Broker;
  http: BenchHttp;
  /** The bench's own pool on the broker's scratch database, for checks and bulk loads. */
  db: DbHandle;
  dbName: string;
  demoDatabase: string;
  /** warn/error lines the broker logged after it started (kept out of the console). */
  warnings: string[];
  stop(): Promise<void>;
}

/**
 * Starts a broker in this process exactly as the integration tests do: a scratch database, a temporary
 * GRANTLINE_HOME (dev trust domain, signing keys), port 0, the in-process dev Vault and a unique demo
 * database; logs at warn level go to a buffer, not the console.
 */
export async function startBenchBroker(server: string): Promise<BenchBroker> {
  const suffix = randomBytes(5).toString('hex');
  const dbName = `grantline_bench_${suffix}`;
  const demoDatabase = `grantline_bench_demo_${suffix}`;
  await adminQuery(server, `create database ${dbName}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-bench-'));
  const warnings: string[] = [];
  const logger = createLogger({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const dbUrl = withDatabase(server, dbName);
  const cleanup = async () => {
    await dropScratch(server, dbName, demoDatabase);
    fs.rmSync(home, { recursive: true, force: true });
  };
  let broker: Broker;
  try {
    const config = loadConfig({ DATABASE_URL: dbUrl, GRANTLINE_HOME: home, GRANTLINE_PORT: '0' });
    broker = await startBroker(config, { logger, demoDatabase });
  } catch (err) {
    await cleanup();
    throw err;
  }
  // startBroker has migrated the database already.
  const db = createDb(dbUrl, { max: 4, applicationName: 'grantline-bench' });
  // Start-up warnings are the dev defaults announcing themselves (dev Vault, dev trust domain, dev signing key).
  warnings.length = 0;
  const client = createBenchHttp(broker.url, home);
  let stopping: Promise<void> | undefined;
  return {
    broker,
    http: client,
    db,
    dbName,
    demoDatabase,
    warnings,
    stop() {
      stopping ??= (async () => {
        client.close();
        try {
          await broker.stop();
          await db.close();
        } finally {
          await cleanup();
        }
      })();
      return stopping;
    },
  };
}

/** Drops the scratch database, the demo database, any login role Vault left in the demo group, then the group. */
export async function dropScratch(server: string, dbName: string, demoDatabase: string): Promise<void> {
  await adminQuery(server, `drop database if exists ${dbName} with (force)`);
  await adminQuery(server, `drop database if exists ${demoDatabase} with (force)`);
  const group = `${demoDatabase}_readers`;
  const left = await adminQuery(
    server,
    `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
      join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
    [group],
  );
  for (const { rolname } of left.rows as { rolname: string }[]) {
    await adminQuery(server, `drop role if exists "${rolname.replace(/"/g, '""')}"`);
  }
  await adminQuery(server, `drop role if exists ${group}`);
}

export interface TaskLimits {
  max_grants: number;
  max_active: number;
  max_depth: number;
  max_fanout: number;
  budget: number;
}

export const LARGE_LIMITS: TaskLimits = {
  max_grants: 1_000_000,
  max_active: 100_000,
  max_depth: 10,
  max_fanout: 1000,
  budget: 100_000_000,
};

/** Opens a task as the bench orchestrator and returns its id. */
export async function openTask(
  b: BenchBroker,
  agents: string[],
  scopes: string[],
  limits = LARGE_LIMITS,
): Promise<string> {
  const res = await b.http.call('POST', '/v1/tasks', {
    as: ORCHESTRATOR,
    json: {
      purpose: 'grantline bench',
      agents,
      // Tasks declare where their tokens go and who may receive delegations (the bench's sub-agents).
      audiences: ['bench-api'],
      delegates: ['spiffe://dev.grantline.local/agent/*'],
      scopes,
      ttl: '30m',
      limits,
      context: { task_type: 'bench', data_sensitivity: 'low', risk_score: 0 },
    },
  });
  return expectStatus(res, 201, 'open task').body.id as string;
}

/** Requests a grant; throws unless 201. */
export async function requestGrant(b: BenchBroker, taskId: string, as: string, scopes: string[]) {
  const res = await b.http.call('POST', `/v1/tasks/${taskId}/grants`, {
    as,
    json: { scopes, audience: 'bench-api', ttl: '30m', context: { tool: 'bench' } },
  });
  return expectStatus(res, 201, `grant ${scopes.join(' ')}`).body as {
    grant_id: string;
    access_token: string;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
