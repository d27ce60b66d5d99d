import { type Kysely, sql } from 'kysely';

// The audit log becomes an RFC 9162 transparency log. Appends no longer touch a shared row: an event
// takes its `seq` from a sequence and records the id of the transaction that inserted it (`tx`), and a
// single sequencer (whichever broker holds an advisory lock) later gives each committed event a dense
// leaf index, in the order commits become visible, by comparing `tx` with the snapshot of its last pass.
// Events written before this migration keep their hash-chain fields (prev_hash, hash) and are the
// first leaves, in chain order; their chain stays verifiable and audit_head, now frozen, still names
// the chain's last event. New events carry `body` instead: the RFC 8785 canonical JSON of the event as
// the API returns it, without its leaf index, so the committed bytes are stored rather than re-derived
// from jsonb. Leaves, interior nodes and signed checkpoints are append-only like the events.

const APPEND_ONLY = ['audit_leaves', 'audit_tree_nodes', 'audit_checkpoints', 'audit_head'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  // Wait out any append still in flight under the old head lock, and keep new ones out until commit.
  await sql`lock table audit_events, audit_head in exclusive mode`.execute(db);
  await sql`
    alter table audit_events
      add column tx xid8,
      add column body text,
      alter column prev_hash drop not null,
      alter column hash drop not null`.execute(db);
  // Set after the column exists, so rows written before this migration keep tx null (legacy).
  await sql`alter table audit_events alter column tx set default pg_current_xact_id()`.execute(db);
  await sql`
    alter table audit_events add constraint audit_events_chained_or_merkle check (
      (tx is null and body is null and prev_hash is not null and hash is not null) or
      (tx is not null and body is not null and prev_hash is null and hash is null))`.execute(db);
  await sql`create sequence audit_events_seq_seq as bigint owned by audit_events.seq`.execute(db);
  await sql`select setval('audit_events_seq_seq', coalesce((select max(seq) from audit_events), 0) + 1, false)`.execute(
    db,
  );
  await sql`alter table audit_events alter column seq set default nextval('audit_events_seq_seq')`.execute(
    db,
  );
  await db.schema.createIndex('audit_events_tx').on('audit_events').columns(['tx', 'seq']).execute();

  await sql`
    create table audit_leaves (
      leaf_index bigint primary key check (leaf_index >= 0),
      seq bigint not null unique,
      hash bytea not null check (octet_length(hash) = 32)
    )`.execute(db);
  await sql`
    create table audit_tree_nodes (
      level smallint not null check (level between 1 and 62),
      node_index bigint not null check (node_index >= 0),
      hash bytea not null check (octet_length(hash) = 32),
      primary key (level, node_index)
    )`.execute(db);
  await sql`
    create table audit_checkpoints (
      tree_size bigint primary key check (tree_size > 0),
      root_hash bytea not null check (octet_length(root_hash) = 32),
      timestamp_ms bigint not null,
      key_id text not null,
      signature text not null
    )`.execute(db);
  // The sequencer's one mutable row: the snapshot of its last complete pass, and the legacy events
  // (the hash chain) that become the first leaves.
  await sql`
    create table audit_sequencer (
      id integer primary key check (id = 1),
      snapshot pg_snapshot not null,
      legacy_events bigint not null,
      legacy_last_seq bigint not null
    )`.execute(db);
  await sql`
    insert into audit_sequencer (id, snapshot, legacy_events, legacy_last_seq)
    select 1, pg_current_snapshot(), count(*), coalesce(max(seq), 0) from audit_events`.execute(db);

  await sql`
    create function audit_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  for (const table of APPEND_ONLY) {
    await sql`
      create trigger ${sql.id(`${table}_no_update_delete`)} before update or delete on ${sql.table(table)}
      for each row execute function audit_refuse_change()`.execute(db);
    await sql`
      create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function audit_refuse_change()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of APPEND_ONLY) {
    await sql`drop trigger ${sql.id(`${table}_no_update_delete`)} on ${sql.table(table)}`.execute(db);
    await sql`drop trigger ${sql.id(`${table}_no_truncate`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function audit_refuse_change()`.execute(db);
  for (const table of ['audit_sequencer', 'audit_checkpoints', 'audit_tree_nodes', 'audit_leaves']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropIndex('audit_events_tx').execute();
  await sql`alter table audit_events alter column seq drop default`.execute(db);
  await sql`drop sequence audit_events_seq_seq`.execute(db);
  await sql`alter table audit_events drop constraint audit_events_chained_or_merkle`.execute(db);
  // Fails, naming the column, once Merkle-era events exist: they have no chain to fall back to.
  await sql`
    alter table audit_events
      drop column tx,
      drop column body,
      alter column prev_hash set not null,
      alter column hash set not null`.execute(db);
}
