import pg from 'pg';
import type { Logger } from '../../shared/logger';

export const DEMO_TABLE = 'demo_orders';

/**
 * The demo database that the dev scope `db:demo:read` opens: created on the broker's PostgreSQL server
 * with a small table, so a freshly minted credential has something to SELECT.
 */
export const demoGroupRole = (database: string): string => `${database}_readers`;

export async function prepareDemoDatabase(serverUrl: string, name: string, logger: Logger): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid demo database name ${name}`);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`create database ${name}`);
    // The logins agents get live on this server: they may connect to the demo database only, never to
    // the broker's own (PUBLIC has CONNECT on every database by default).
    const own = await admin.query<{ db: string }>('select current_database() as db');
    await admin.query(`revoke connect on database ${pg.escapeIdentifier(own.rows[0]!.db)} from public`);
    await admin.query(`revoke connect on database ${name} from public`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(
      `create table if not exists ${DEMO_TABLE} (id serial primary key, item text not null, amount numeric(10,2) not null)`,
    );
    const { rows } = await db.query<{ n: string }>(`select count(*) as n from ${DEMO_TABLE}`);
    if (Number(rows[0]!.n) === 0) {
      await db.query(
        `insert into ${DEMO_TABLE} (item, amount) values ('keyboard', 49.90), ('monitor', 189.00), ('cable', 7.50)`,
      );
    }
    // Only the logins Vault creates (members of this group) may read, and only this table.
    const group = demoGroupRole(name);
    const exists = await db.query('select 1 from pg_roles where rolname = $1', [group]);
    if (exists.rowCount === 0) await db.query(`create role ${group} nologin`);
    await db.query(`revoke all on ${DEMO_TABLE} from public`);
    await db.query(`grant select on ${DEMO_TABLE} to ${group}`);
    await db.query(`grant connect on database ${name} to ${group}`);
  } finally {
    await db.end();
  }
  logger.debug({ database: name }, 'demo database ready');
  return url.toString();
}
