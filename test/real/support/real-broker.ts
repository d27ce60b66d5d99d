import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorkloadApiClient, type WorkloadApiClient, type X509Svid } from '@grantline/sdk/workload-api';
import pg from 'pg';
import { loadConfig } from '../../../server/config/config';
import { type Broker, startBroker } from '../../../server/main';
import { createLogger } from '../../../server/shared/logger';
import { createTestDatabase, type TestDatabase, testServerUrl } from '../../helpers/database';
import { type ActorName, type RealStackInfo, stackInfo } from './stack-info';

export interface RealBroker {
  broker: Broker;
  info: RealStackInfo;
  db: TestDatabase;
  demoDatabase: string;
  logs: string[];
  /** The OpenBao the broker started for itself, to check its state through OpenBao's own API. */
  bao: { url: string; token: string };
  stop(): Promise<void>;
}

/** A broker on SPIRE (trust bundles and its own X509-SVID from the Workload API) and its own OpenBao. */
export async function startRealBroker(env: Record<string, string> = {}): Promise<RealBroker> {
  const info = stackInfo();
  const db = await createTestDatabase({ migrate: false });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-real-home-'));
  const demoDatabase = `grantline_demo_${randomBytes(5).toString('hex')}`;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: db.url,
    GRANTLINE_HOME: home,
    GRANTLINE_PORT: '0',
    GRANTLINE_TLS_PORT: '0',
    GRANTLINE_VAULT: 'bao',
    GRANTLINE_TRUST_SOURCE: 'workload-api',
    GRANTLINE_TRUST_DOMAIN: info.trustDomain,
    SPIFFE_ENDPOINT_SOCKET: `unix://${info.agentSocket}`,
    GRANTLINE_TLS_SVID: 'true',
    GRANTLINE_WORKER_INTERVAL_MS: '200',
    ...env,
  });
  const broker = await startBroker(config, { logger, demoDatabase });
  return {
    broker,
    info,
    db,
    demoDatabase,
    logs,
    bao: { url: broker.vault.openbao!.url, token: broker.vault.brokerToken },
    async stop() {
      await broker.stop();
      await db.drop();
      await dropDemoDatabase(demoDatabase);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

async function dropDemoDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    const members = await admin.query<{ rolname: string }>(
      `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member
       join pg_roles g on g.oid = m.roleid where g.rolname = $1`,
      [`${name}_readers`],
    );
    for (const { rolname } of members.rows)
      await admin.query(`drop role if exists "${rolname.replace(/"/g, '""')}"`);
    await admin.query(`drop role if exists ${name}_readers`);
  } finally {
    await admin.end();
  }
}

const clients = new Map<ActorName, WorkloadApiClient>();
function clientFor(actor: ActorName): WorkloadApiClient {
  let client = clients.get(actor);
  if (!client) {
    client = createWorkloadApiClient({ address: stackInfo().actors[actor].endpoint });
    clients.set(actor, client);
  }
  return client;
}

export function closeWorkloadClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

/** Retries while SPIRE is still propagating a new entry (PermissionDenied "no identity issued"). */
async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** A JWT-SVID for `actor` from SPIRE's Workload API (attested by its uid). */
export function jwtSvid(actor: ActorName, audience = 'grantline'): Promise<string> {
  const spiffeId = stackInfo().actors[actor].spiffeId;
  return retrying(
    `JWT-SVID of ${actor}`,
    async () => (await clientFor(actor).fetchJwtSvid({ audience, spiffeId })).token,
  );
}

/** The X509-SVID of `actor` from SPIRE's Workload API. */
export function x509Svid(actor: ActorName): Promise<X509Svid> {
  return retrying(`X509-SVID of ${actor}`, async () => (await clientFor(actor).fetchX509Context()).svids[0]!);
}

export interface Reply {
  status: number;
  body: any;
}

/** JSON or form requests to the broker, authenticated with `actor`'s SPIRE JWT-SVID. */
export async function call(
  rb: RealBroker,
  method: string,
  urlPath: string,
  o: { as?: ActorName; body?: unknown; form?: Record<string, string>; bearer?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const bearer = o.bearer ?? (o.as ? await jwtSvid(o.as) : undefined);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  const res = await fetch(`${rb.broker.url}${urlPath}`, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
