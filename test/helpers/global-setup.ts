import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../server/dev/postgres/embedded';
import { createLogger } from '../../server/shared/logger';

/**
 * Integration and contract tests need a PostgreSQL superuser URL. CI points TEST_DATABASE_URL at the
 * local server; on a fresh machine we start the embedded PostgreSQL once for the whole run.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-test-pg-'));
  const pg = await startEmbeddedPostgres(dir, createLogger({ level: 'warn' }));
  process.env.TEST_DATABASE_URL = pg.url;
  (globalThis as Record<string, unknown>).__grantlineEmbeddedPg = { pg, dir };
}
