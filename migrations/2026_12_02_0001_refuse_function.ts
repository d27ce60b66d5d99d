import { type Kysely, sql } from 'kysely';

// Issue 14: a grant is reserved in ONE statement (task slot, grant row, offer and single-use approvals as
// steps of one WITH). When a later step finds that what it relied on is gone (an offer redeemed by a
// concurrent request), the statement must be undone as a whole: this raises, with its own SQLSTATE, the
// reason the caller maps to its error (server/db/one-statement.ts, refuseUnless).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function grantline_refuse(reason text) returns boolean language plpgsql as $$
    begin
      raise exception using errcode = 'GLR01', message = reason;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function grantline_refuse(text)`.execute(db);
}
