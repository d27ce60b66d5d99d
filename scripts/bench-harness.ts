import http from 'node:http';
import pg from 'pg';
import type { ScopeCatalogue } from '../server/config/scope-catalogue';
import type { DbHandle } from '../server/db/pool';
import { mintDevJwtSvid } from '../server/dev/identity/dev-trust-domain';
import type { VaultAdapter } from '../server/vault';
import type { CpuPids } from './bench-cpu';

/** The identities the bench acts as, all in the dev trust domain (real ES256 JWT-SVIDs the broker verifies). */
export const ORCHESTRATOR = 'spiffe://dev.grantline.local/orchestrator/bench';
export const AUDITOR = 'spiffe://dev.grantline.local/auditor/bench';
export const RESOURCE = 'spiffe://dev.grantline.local/resource/bench';
export const agentId = (name: string | number) => `spiffe://dev.grantline.local/agent/bench-${name}`;
/** Every bench agent may receive delegations (a task's `delegates`). */
export const ANY_AGENT = 'spiffe://dev.grantline.local/agent/*';
/** The audience the bench's tokens carry (declared on every bench task). */
export const BENCH_AUDIENCE = 'bench-api';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

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

/** A keep-alive HTTP client (node:http) that caches one JWT-SVID per identity, as a workload would. */
export function createBenchHttp(baseUrl: string, home: string): BenchHttp {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
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
    const req = http.request(url, { method, headers, agent, timeout: 60_000 }, (res) => {
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

/** What a phase in the load process drives: the broker over HTTP, its database for checks, the same Vault. */
export interface BenchTarget {
  http: BenchHttp;
  /** The bench's own small pool on the broker's database (checks and bulk loads, never the measured path). */
  db: DbHandle;
  dbName: string;
  home: string;
  brokerUrl: string;
  /** The Vault adapter the broker uses, built here from the same settings: the direct comparison. */
  vault: VaultAdapter;
  catalogue: ScopeCatalogue;
  /** Whose CPU the measured loops are charged (read from /proc on this machine). */
  pids?: CpuPids;
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
  max_depth: 4,
  max_fanout: 1000,
  budget: 100_000_000,
};

/** Opens a task as the bench orchestrator and returns its id. */
export async function openTask(
  b: BenchTarget,
  agents: string[],
  scopes: string[],
  o: { limits?: TaskLimits; audiences?: string[] } = {},
): Promise<string> {
  const res = await b.http.call('POST', '/v1/tasks', {
    as: ORCHESTRATOR,
    json: {
      purpose: 'grantline bench',
      agents,
      delegates: [ANY_AGENT],
      scopes,
      audiences: o.audiences ?? [BENCH_AUDIENCE],
      ttl: '2h',
      limits: o.limits ?? LARGE_LIMITS,
      context: { task_type: 'bench', data_sensitivity: 'low', risk_score: 0 },
    },
  });
  return expectStatus(res, 201, 'open task').body.id as string;
}

export interface Granted {
  grant_id: string;
  access_token: string;
}

/** Requests a grant with the broker's default TTL (5 minutes, as production issues them); throws unless 201. */
export async function requestGrant(
  b: BenchTarget,
  taskId: string,
  as: string,
  scopes: string[],
  audience = BENCH_AUDIENCE,
): Promise<Granted> {
  const res = await b.http.call('POST', `/v1/tasks/${taskId}/grants`, {
    as,
    json: { scopes, audience, context: { tool: 'bench' } },
  });
  return expectStatus(res, 201, `grant ${scopes.join(' ')}`).body as Granted;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
