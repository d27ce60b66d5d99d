import { type Kysely, sql } from 'kysely';

// The revocation feed's `seq` was taken from a sequence at insert: a transaction that inserted first but
// committed last made a reader that had already passed its number skip a revocation. From here `id` is
// the insert order and `seq` is assigned after commit, by one sequencer at a time (revocation/feed.ts).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table revocation_feed rename column seq to id`.execute(db);
  await db.schema.alterTable('revocation_feed').addColumn('seq', 'bigint').execute();
  await sql`update revocation_feed set seq = id`.execute(db);
  await db.schema.createIndex('revocation_feed_seq').unique().on('revocation_feed').column('seq').execute();
  await db.schema
    .createIndex('revocation_feed_unsequenced')
    .on('revocation_feed')
    .column('id')
    .where(sql.ref('seq'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('revocation_feed_unsequenced').execute();
  await db.schema.dropIndex('revocation_feed_seq').execute();
  await db.schema.alterTable('revocation_feed').dropColumn('seq').execute();
  await sql`alter table revocation_feed rename column id to seq`.execute(db);
}
