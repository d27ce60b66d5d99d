import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { appendAuditEvent, verifyAuditChain } from '../server/audit';
import { readHead } from '../server/audit/audit.repository';
import { auditHash, type ChainedRecord } from '../server/audit/audit-hash';
import type { Db } from '../server/db/database';
import { migrateToLatest } from '../server/db/migrator';
import { createDb } from '../server/db/pool';

export interface BenchAuditOptions {
  /** A PostgreSQL superuser server URL: a scratch database is created there and dropped after. */
  url: string;
  /** How long each append phase runs (1 writer, then 8). Default 3 s. */
  appendSeconds?: number;
  /** Events in the log when verify is timed (the append phases' events plus bulk-loaded ones). Default 100,000. */
  verifyEvents?: number;
}

export interface BenchAuditResult {
  appendsPerSecOneWriter: number;
  appendsPerSecEightWriters: number;
  verifyEventsPerSec: number;
  verifiedEvents: number;
}

const MAX_VERIFY_EVENTS = 100_000;
// Hard cap per append phase so the loops stop even if the clock misbehaves.
const MAX_APPENDS_PER_PHASE = 200_000;
const BULK_CHUNK = 5000;

const withDb = (url: string, name: string) =>
  Object.assign(new URL(url), { pathname: `/${name}` }).toString();

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const samplePayload = (i: number) => ({
  decision: 'allow',
  policy_ids: ['agents-may-read-orders', 'task-ceiling'],
  policy_version: 'sha256:6b1f0c',
  scopes: ['db:orders:read'],
  ttl: 300,
  lease_id: `database/creds/orders-read/${i.toString(36).padStart(24, '0')}`,
});

/** Each append in its own transaction, as a grant request pays it; `writers` loops run until the deadline. */
async function appendPhase(db: Db, writers: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const writer = async (w: number) => {
    while (performance.now() < deadline && done < MAX_APPENDS_PER_PHASE) {
      const event = {
        type: 'grant.issued',
        taskId: randomUUID(),
        principal: `spiffe://bench/w${w}`,
        payload: samplePayload(done),
      };
      await db.transaction().execute((tx) => appendAuditEvent(tx, event));
      done += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return Math.round(done / ((performance.now() - started) / 1000));
}

type StoredRecord = ChainedRecord & { hash: string };

/** Extends the chain to `target` events: hashes computed here, rows loaded with one unnest insert per chunk. */
async function bulkLoad(db: Db, target: number): Promise<void> {
  let head = await readHead(db);
  const taskId = randomUUID();
  while (head.seq < target) {
    const rows: StoredRecord[] = [];
    let prevHash = head.hash;
    const at = new Date();
    for (let seq = head.seq + 1; seq <= Math.min(target, head.seq + BULK_CHUNK); seq += 1) {
      const r = {
        seq,
        at,
        type: 'grant.issued',
        taskId,
        grantId: null,
        principal: 'spiffe://bench/bulk',
        payload: samplePayload(seq),
        prevHash,
      };
      prevHash = auditHash(r);
      rows.push({ ...r, hash: prevHash });
    }
    await insertChunk(db, rows);
    head = { seq: rows.at(-1)?.seq ?? head.seq, hash: prevHash };
  }
}

async function insertChunk(db: Db, rows: StoredRecord[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`
      insert into audit_events (seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)
      select seq, at, type, task_id, grant_id, principal, payload::jsonb, prev_hash, hash from unnest(
        ${rows.map((r) => r.seq)}::bigint[], ${rows.map((r) => r.at.toISOString())}::timestamptz[],
        ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.taskId)}::uuid[], ${rows.map((r) => r.grantId)}::uuid[],
        ${rows.map((r) => r.principal)}::text[], ${rows.map((r) => JSON.stringify(r.payload))}::text[],
        ${rows.map((r) => r.prevHash)}::text[], ${rows.map((r) => r.hash)}::text[]
      ) as t(seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash)`.execute(tx);
    const last = rows.at(-1);
    if (last)
      await tx
        .updateTable('audit_head')
        .set({ seq: String(last.seq), hash: last.hash })
        .where('id', '=', 1)
        .execute();
  });
}

/**
 * Measures the audit log on a scratch database: append throughput with one writer and with eight
 * concurrent writers (each append its own transaction, contending for the head lock), then the
 * throughput of `verifyAuditChain` over up to 100,000 chained events. Bounded: fixed phase lengths and
 * a fixed event count, and the scratch database is dropped even when a phase fails.
 */
export async function benchAudit(opts: BenchAuditOptions): Promise<BenchAuditResult> {
  const seconds = opts.appendSeconds ?? 3;
  const target = Math.min(opts.verifyEvents ?? MAX_VERIFY_EVENTS, MAX_VERIFY_EVENTS);
  const name = `grantline_bench_audit_${randomBytes(6).toString('hex')}`;
  await admin(opts.url, `create database ${name}`);
  const handle = createDb(withDb(opts.url, name), { max: 10, applicationName: 'grantline-bench-audit' });
  try {
    await migrateToLatest(handle.db);
    const appendsPerSecOneWriter = await appendPhase(handle.db, 1, seconds);
    const appendsPerSecEightWriters = await appendPhase(handle.db, 8, seconds);
    await bulkLoad(handle.db, target);
    const started = performance.now();
    const result = await verifyAuditChain(handle.db);
    const elapsed = (performance.now() - started) / 1000;
    if (!result.ok) throw new Error(`bench chain failed verification at ${JSON.stringify(result.brokenAt)}`);
    const verifyEventsPerSec = Math.round(result.checked / elapsed);
    return {
      appendsPerSecOneWriter,
      appendsPerSecEightWriters,
      verifyEventsPerSec,
      verifiedEvents: result.checked,
    };
  } finally {
    await handle.close();
    await admin(opts.url, `drop database if exists ${name} with (force)`);
  }
}

if (require.main === module) {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    console.error('set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL superuser URL');
    process.exit(2);
  }
  benchAudit({ url }).then(
    (r) => {
      console.log(`audit append, 1 writer:   ${r.appendsPerSecOneWriter} events/s`);
      console.log(`audit append, 8 writers:  ${r.appendsPerSecEightWriters} events/s`);
      console.log(
        `audit verify:             ${r.verifyEventsPerSec} events/s over ${r.verifiedEvents} events`,
      );
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
