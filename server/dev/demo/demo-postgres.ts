import pg from 'pg';
import { CliFailure } from '../../cli/client-options';
import type { IssuedSecret } from '../../grants/issue/mint';
import { DEMO_TABLE } from '../postgres/demo-database';

/** Where and as whom a minted `db:demo:read` secret logs in: host/port/database from its connection facts. */
export function loginOf(secret: IssuedSecret | undefined): pg.ClientConfig & { user: string } {
  if (secret?.kind !== 'dynamic') throw new CliFailure('the grant carries no database secret');
  const c = secret.connection ?? {};
  const { username, password } = secret.data as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string' || c.host === undefined)
    throw new CliFailure(`the secret for ${secret.scope} has no username/password or connection facts`);
  return {
    host: String(c.host),
    port: Number(c.port ?? 5432),
    database: String(c.database ?? 'postgres'),
    user: username,
    password,
    connectionTimeoutMillis: 3000,
  };
}

/** Logs in with the minted credentials and counts the demo rows. */
export async function countDemoRows(login: pg.ClientConfig): Promise<number> {
  const client = new pg.Client(login);
  // A session the revocation statements terminate emits 'error'; the awaited calls report it.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${DEMO_TABLE}`);
    return rows[0]?.n ?? 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls until a login with these credentials fails; returns the server's refusal, or null if it still works. */
export async function waitForLoginToFail(login: pg.ClientConfig, timeoutMs = 5000): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await countDemoRows(login);
    } catch (err) {
      return (err as Error).message;
    }
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}
