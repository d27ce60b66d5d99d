import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database, Db } from '../../db/database';

/**
 * The advisory lock that makes one broker the sequencer (two int4 keys: "audit", RFC 9162). It is a
 * session lock, held by a connection of its own: when the holder's process dies or its connection is
 * cut, PostgreSQL ends the session and the lock is free for the next broker that polls.
 */
const LOCK_KEYS = [0x61756474, 9162] as const;

/** A holder that hangs stops running statements; PostgreSQL then ends its session within this time. */
const IDLE_SESSION_TIMEOUT_MS = 1500;

export interface SequencerSession {
  db: Db;
  tryLock(): Promise<boolean>;
  /** The backend pid (tests cut it with pg_terminate_backend). */
  pid: number;
  /** False once the connection has failed or ended: the lock is gone with it. */
  alive(): boolean;
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection (not from the pool: the lock must live exactly as long as this session)
 * and a Kysely on top of it, so the leader's writes can only happen while it still holds the lock.
 */
export async function openSequencerSession(databaseUrl: string, onError: (err: Error) => void) {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'grantline-audit-sequencer',
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    connectionTimeoutMillis: 5000,
  });
  let alive = true;
  client.on('error', (err) => {
    alive = false;
    onError(err);
  });
  client.on('end', () => {
    alive = false;
  });
  await client.connect();
  try {
    await tightenTimeouts(client);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: {
        connect: async () => Object.assign(client, { release: () => undefined }),
        end: async () => undefined,
      },
    }),
  });
  let closed = false;
  const session: SequencerSession = {
    db,
    pid,
    alive: () => alive,
    async tryLock() {
      const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        ...LOCK_KEYS,
      ]);
      return r.rows[0]?.ok === true;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Ending the session releases the advisory lock.
      await client.end().catch(() => undefined);
    },
  };
  return session;
}

/** Dead peers and hung holders must release the lock within seconds, not at TCP's hours-long defaults. */
async function tightenTimeouts(client: pg.Client): Promise<void> {
  await client.query(
    "select set_config('tcp_keepalives_idle', '2', false), set_config('tcp_keepalives_interval', '1', false), " +
      "set_config('tcp_keepalives_count', '2', false)",
  );
  const version = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
  if (Number(version.rows[0]!.v) >= 140000) {
    await client.query(
      `select set_config('idle_session_timeout', '${IDLE_SESSION_TIMEOUT_MS}', false), ` +
        `set_config('idle_in_transaction_session_timeout', '${IDLE_SESSION_TIMEOUT_MS}', false)`,
    );
  }
}
