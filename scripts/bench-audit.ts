import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { createDomainUnitOfWork } from '../server/access/unit';
import {
  type AuditEventInput,
  type AuditSequencer,
  auditKeyring,
  buildAuditKeys,
  canonicalJson,
  consistencyProof,
  createAuditSequencer,
  inclusionProof,
  verifyAuditLog,
} from '../server/audit';
import { eventBody } from '../server/audit/audit-leaf';
import type { Db } from '../server/db/database';
import { migrateToLatest } from '../server/db/migrator';
import { createDb } from '../server/db/pool';
import { systemClock } from '../server/shared/clock';
import { createLogger } from '../server/shared/logger';
import { generateSigningKeyPem, signingKeyFromPem } from '../server/tokens/key-material';
import { startCheckpointLatencyProbe } from './bench-audit-latency';

export interface BenchAuditOptions {
  /** A PostgreSQL superuser server URL: a scratch database is created there and dropped after. */
  url: string;
  /** How long each append phase runs (1 writer, then 8). Default 3 s. */
  appendSeconds?: number;
  /** Events in the log when verification and proofs are timed. Default 1,000,000. */
  events?: number;
  /** Inclusion proofs timed (at random leaves of the whole tree). Default 1000. */
  proofSamples?: number;
}

/** Snake-case keys, as they go into .bench/results.json under `audit`. */
export interface BenchAuditResult {
  append_1_writer_per_s: number;
  append_8_writers_per_s: number;
  /** Samples (every 50 ms) of the 8-writer phase in which a session waited on a row lock (none expected). */
  append_8_writers_lock_wait_samples: number;
  /** 8 writers appending 100 events per transaction (as closing a task does). */
  append_8_writers_batched_per_s: number;
  /** Leaves the sequencer added per second while catching up with the bulk-loaded events. */
  sequencer_per_s: number;
  verify_per_s: number;
  verified_events: number;
  checkpoints_verified: number;
  inclusion_proof_p50_ms: number;
  inclusion_proof_p95_ms: number;
  consistency_proof_p50_ms: number;
  proof_tree_size: number;
  /** Commit → signed checkpoint (startCheckpointLatencyProbe) while the 8-writer phases append. */
  checkpoint_latency_p50_ms?: number;
  checkpoint_latency_p95_ms?: number;
  checkpoint_latency_samples?: number;
}

// Hard caps so the loops stop even if the clock misbehaves.
const MAX_APPENDS_PER_PHASE = 500_000;
const MAX_EVENTS = 2_000_000;
const BULK_CHUNK = 100_000;

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

const sampleEvent = (i: number, principal: string): AuditEventInput => ({
  type: 'grant.issued',
  taskId: randomUUID(),
  principal,
  payload: {
    decision: 'allow',
    policy_ids: ['agents-may-read-orders', 'task-ceiling'],
    policy_version: 'sha256:6b1f0c',
    scopes: ['db:orders:read'],
    ttl: 300,
    lease_id: `database/creds/orders-read/${i.toString(36).padStart(24, '0')}`,
  },
});

/**
 * `perTransaction` events in each unit of work (1: as a grant request pays it), appended as the domain's
 * unit of work appends them (its transaction, audit last); `writers` loops run until the deadline.
 */
async function appendPhase(db: Db, writers: number, seconds: number, perTransaction = 1): Promise<number> {
  const unit = createDomainUnitOfWork(db, systemClock);
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const writer = async (w: number) => {
    while (performance.now() < deadline && done < MAX_APPENDS_PER_PHASE) {
      const events = Array.from({ length: perTransaction }, (_, i) =>
        sampleEvent(done + i, `spiffe://bench/w${w}`),
      );
      await unit.run({}, async (work) => work.audit(...events));
      done += perTransaction;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return Math.round(done / ((performance.now() - started) / 1000));
}

/** Counts the samples in which a session of this database waited on a row lock (none expected). */
function sampleLockWaits(db: Db) {
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'
          and wait_event in ('tuple', 'transactionid')`.execute(db);
      if ((r.rows[0]?.n ?? 0) > 0) samples += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return samples;
  };
}

/**
 * Brings the log to `target` events quickly: rows generated by PostgreSQL in 100,000-row statements,
 * each body the RFC 8785 JSON the append path would have written for the same event (checked on a
 * sample below). Only the size of the log matters here; appends are measured above.
 */
async function bulkLoad(db: Db, target: number): Promise<void> {
  const r = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  // At least a tenth of the target even when the append phases wrote more, so the sequencer's catch-up
  // figure always has a backlog to measure.
  const end = Math.max(target, Number(r.n) + Math.ceil(target / 10));
  for (let have = Number(r.n); have < end; have += BULK_CHUNK) {
    const n = Math.min(BULK_CHUNK, end - have);
    await sql`
      insert into audit_events (at, type, task_id, principal, payload, body)
      select g.at, 'grant.issued', g.task, 'spiffe://bench/bulk', g.payload::jsonb,
        '{"at":"' || to_char(g.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ||
        '","grant_id":null,"payload":' || g.payload || ',"principal":"spiffe://bench/bulk","task_id":"' || g.task ||
        '","type":"grant.issued"}'
      from (
        select date_trunc('milliseconds', clock_timestamp()) as at, gen_random_uuid() as task,
          '{"decision":"allow","lease_id":"database/creds/orders-read/' || lpad(to_hex(${have} + i), 24, '0') ||
          '","policy_ids":["agents-may-read-orders","task-ceiling"],"policy_version":"sha256:6b1f0c",' ||
          '"scopes":["db:orders:read"],"ttl":300}' as payload
        from generate_series(1, ${n}) as i
      ) g`.execute(db);
  }
  await checkBulkBodies(db);
}

/** The generated bodies must be exactly what the append path writes, or the figures are not ours. */
async function checkBulkBodies(db: Db): Promise<void> {
  const rows = await db
    .selectFrom('audit_events')
    .select(['at', 'type', 'task_id', 'grant_id', 'principal', 'payload', 'body'])
    .where('principal', '=', 'spiffe://bench/bulk')
    .limit(3)
    .execute();
  for (const row of rows) {
    const expected = eventBody(
      { at: row.at, type: row.type, taskId: row.task_id, grantId: row.grant_id, principal: row.principal },
      canonicalJson(row.payload),
    );
    if (row.body !== expected) throw new Error(`bench bulk body is not canonical: ${row.body}`);
  }
}

/** Lets the running sequencer catch up with everything committed; returns leaves per second meanwhile. */
async function catchUp(db: Db, sequencer: AuditSequencer): Promise<number> {
  const leaves = async () =>
    Number(
      (
        await db
          .selectFrom('audit_leaves')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const before = await leaves();
  const started = performance.now();
  const cp = await sequencer.runOnce({ forceCheckpoint: true });
  if (!cp) throw new Error('the bench sequencer did not lead');
  return Math.round((cp.tree_size - before) / ((performance.now() - started) / 1000));
}

async function timeEach(samples: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;

/**
 * Measures the transparency log on a scratch database with its sequencer running as in a broker:
 * append throughput with 1 and 8 concurrent writers (each append its own transaction), the sequencer's
 * catch-up rate over a bulk-loaded log, full verification (every leaf recomputed, every checkpoint's
 * signature and root checked) and inclusion / consistency proofs among `events` events. Bounded: fixed
 * phase lengths and event counts, and the scratch database is dropped even when a phase fails.
 */
export async function benchAudit(opts: BenchAuditOptions): Promise<BenchAuditResult> {
  const seconds = opts.appendSeconds ?? 3;
  const target = Math.min(opts.events ?? 1_000_000, MAX_EVENTS);
  const name = `grantline_bench_audit_${randomBytes(6).toString('hex')}`;
  await admin(opts.url, `create database ${name}`);
  const url = withDb(opts.url, name);
  const handle = createDb(url, { max: 10, applicationName: 'grantline-bench-audit' });
  const keys = buildAuditKeys(await signingKeyFromPem(generateSigningKeyPem(), 'bench-audit-key'));
  const sequencer = createAuditSequencer({
    databaseUrl: url,
    keys,
    clock: systemClock,
    logger: createLogger({ level: 'warn' }, { write: () => undefined }),
  });
  try {
    await migrateToLatest(handle.db);
    sequencer.start();
    const append_1_writer_per_s = await appendPhase(handle.db, 1, seconds);
    const stopSampling = sampleLockWaits(handle.db);
    // Commit → signed checkpoint, measured beside the heaviest load on the log: both 8-writer phases.
    const latency = startCheckpointLatencyProbe(handle.db, { probes: 2 });
    const append_8_writers_per_s = await appendPhase(handle.db, 8, seconds);
    const append_8_writers_lock_wait_samples = await stopSampling();
    const append_8_writers_batched_per_s = await appendPhase(handle.db, 8, seconds, 100);
    const checkpoint = await latency.stop();
    // The loop stops before the bulk load, so the catch-up pass below sequences all of it and its rate
    // is the sequencer's (a running loop would take part of the load meanwhile, down to all of it).
    await sequencer.stop();
    await bulkLoad(handle.db, target);
    const sequencer_per_s = await catchUp(handle.db, sequencer);
    await sequencer.stop();

    const started = performance.now();
    const report = await verifyAuditLog(handle.db, await auditKeyring(keys.jwks()));
    const elapsed = (performance.now() - started) / 1000;
    if (!report.ok) throw new Error(`bench log failed verification: ${JSON.stringify(report.brokenAt)}`);

    const size = report.latestCheckpoint!.tree_size;
    const leaf = (i: number) => Math.floor((((i * 2654435761) % 4294967296) / 4294967296) * size);
    const inclusion = await timeEach(opts.proofSamples ?? 1000, (i) =>
      inclusionProof(handle.db, leaf(i), size),
    );
    const consistency = await timeEach(200, (i) => consistencyProof(handle.db, Math.max(1, leaf(i)), size));
    return {
      append_1_writer_per_s,
      append_8_writers_per_s,
      append_8_writers_lock_wait_samples,
      append_8_writers_batched_per_s,
      sequencer_per_s,
      verify_per_s: Math.round(report.checked / elapsed),
      verified_events: report.checked,
      checkpoints_verified: report.checkpointsChecked,
      inclusion_proof_p50_ms: pct(inclusion, 50),
      inclusion_proof_p95_ms: pct(inclusion, 95),
      consistency_proof_p50_ms: pct(consistency, 50),
      proof_tree_size: size,
      checkpoint_latency_p50_ms: checkpoint.p50Ms,
      checkpoint_latency_p95_ms: checkpoint.p95Ms,
      checkpoint_latency_samples: checkpoint.samples,
    };
  } finally {
    await sequencer.stop();
    await handle.close();
    await admin(opts.url, `drop database if exists ${name} with (force)`);
  }
}

if (require.main === module) {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    console.error('set BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL superuser URL');
    process.exit(2);
  }
  const events = Number(process.env.BENCH_AUDIT_EVENTS) || undefined;
  benchAudit({ url, ...(events ? { events } : {}) }).then(
    (r) => console.log(JSON.stringify({ audit: r }, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
