import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../server/db/database';
import { migrateToLatest } from '../../server/db/migrator';
import { createDb, type DbHandle } from '../../server/db/pool';

export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url)
    throw new Error('TEST_DATABASE_URL is not set: run integration tests through jest (global setup)');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase extends DbHandle {
  name: string;
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database for one test file: created, migrated to latest, dropped after. */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `grantline_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = withDatabase(testServerUrl(), name);
  const handle = createDb(url, { max: 20, applicationName: 'grantline-test' });
  if (opts.migrate ?? true) await migrateToLatest(handle.db);
  return {
    ...handle,
    name,
    url,
    async drop() {
      await handle.close();
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export type { Database };
