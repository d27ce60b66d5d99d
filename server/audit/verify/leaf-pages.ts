import { sql } from 'kysely';
import type { DbOrTx } from '../../db/database';
import { type LegacyRow, leafFromBody, leafFromLegacy } from '../audit-leaf';
import type { WalkLeaf } from './tree-walk';

/**
 * Reading the leaves for verification. For new events PostgreSQL builds each leaf from the stored body
 * exactly as leafFromBody does and hashes it (RFC 9162 §2.1.1), so only 32 bytes per event cross the
 * wire; the sequencer hashed the same leaves in JavaScript, so every page also cross-checks the two.
 * This trusts the database server to run sha256 as it trusts it to return rows; an export verified
 * offline, and any RFC 9162 implementation, recompute every leaf without it. Legacy events (the old
 * hash chain) are hashed here.
 */

const PAYLOAD_MEMBER = Buffer.from(',"payload":', 'utf8');

/**
 * Each leaf's event by primary key, one probe per leaf (the `offset 0` keeps PostgreSQL from turning
 * the lookup into a hash join that reads the whole events table for every page).
 */
const EVENT_OF_LEAF = sql`left join lateral (
  select seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash, body
  from audit_events where seq = l.seq offset 0) e on true`;

/** The same probe reading only what a new event's leaf is built from. */
const BODY_OF_LEAF = sql`left join lateral (select body from audit_events where seq = l.seq offset 0) e on true`;

/** SHA-256(0x00 ‖ leaf) from the body's UTF-8 bytes (byte offsets: no rescans); null if it has no payload. */
const COMPUTED = sql`(select case when h.at > 0 then sha256('\\x00'::bytea || substring(h.b from 1 for h.at - 1) ||
  convert_to(',"leaf_index":' || l.leaf_index, 'UTF8') || substring(h.b from h.at)) end
  from (select b, position(${PAYLOAD_MEMBER}::bytea in b) as at from convert_to(e.body, 'UTF8') as b) h)`;

const LEGACY_JSON = sql`json_build_object('seq', e.seq, 'at_ms', round(extract(epoch from e.at) * 1000),
  'type', e.type, 'task_id', e.task_id, 'grant_id', e.grant_id, 'principal', e.principal,
  'payload', e.payload, 'prev_hash', e.prev_hash, 'hash', e.hash)::text`;

/** A page whose leaves are all new, present and matching their stored hash, as one blob of hashes. */
export interface CleanPage {
  from: number;
  /** 32 bytes per leaf, in leaf order. */
  hashes: Buffer;
}

/**
 * The page as one row when it is clean (the common case: one allocation and one parse per 10,000
 * leaves), or undefined when anything in it needs a closer look (a gap, a legacy or damaged event).
 */
export async function readCleanPage(db: DbOrTx, from: number, upto: number): Promise<CleanPage | undefined> {
  const r = await sql<{ n: string; clean: boolean | null; hashes: Buffer | null }>`
    select count(*) as n, bool_and(p.computed is not null and p.computed = p.stored and p.leaf_index = ${from} + p.k - 1) as clean,
      string_agg(p.computed, ''::bytea order by p.leaf_index) as hashes
    from (
      select l.leaf_index, l.hash as stored, ${COMPUTED} as computed,
        row_number() over (order by l.leaf_index) as k
      from audit_leaves l ${BODY_OF_LEAF}
      where l.leaf_index >= ${from} and l.leaf_index < ${upto}
    ) p`.execute(db);
  const row = r.rows[0];
  const complete = row && Number(row.n) === upto - from && row.clean === true && row.hashes;
  return complete ? { from, hashes: row.hashes! } : undefined;
}

export interface PageRow {
  leaf_index: string;
  missing: boolean;
  is_new: boolean;
  computed: Buffer | null;
  stored: Buffer;
  legacy: string | null;
}

/** The page leaf by leaf, for pages that are not clean. */
export async function readPage(db: DbOrTx, from: number, upto: number): Promise<PageRow[]> {
  const r = await sql<PageRow>`
    select l.leaf_index, e.seq is null as missing, e.body is not null as is_new, ${COMPUTED} as computed,
      l.hash as stored, case when e.seq is not null and e.body is null then ${LEGACY_JSON} end as legacy
    from audit_leaves l ${EVENT_OF_LEAF}
    where l.leaf_index >= ${from} and l.leaf_index < ${upto} order by l.leaf_index`.execute(db);
  return r.rows;
}

export function toWalkLeaf(row: PageRow): WalkLeaf {
  const index = Number(row.leaf_index);
  if (row.missing) return { index, text: undefined };
  if (row.is_new) {
    // A body without its payload member cannot be any leaf that was hashed.
    const hash = row.computed ?? Buffer.alloc(32);
    return { index, text: undefined, hash, matchesStored: row.computed !== null && hash.equals(row.stored) };
  }
  const legacy = legacyRow(row.legacy!);
  return { index, text: legacyLeafOrEmpty(legacy, index), storedHash: row.stored.toString('hex'), legacy };
}

/** One page of leaf texts, exactly the bytes each leaf commits to (undefined: the event row is gone). */
export async function readLeafTexts(
  db: DbOrTx,
  from: number,
  upto: number,
): Promise<Array<{ index: number; text: string | undefined }>> {
  const r = await sql<{ leaf_index: string; body: string | null; missing: boolean; legacy: string | null }>`
    select l.leaf_index, e.body, e.seq is null as missing,
      case when e.seq is not null and e.body is null then ${LEGACY_JSON} end as legacy
    from audit_leaves l ${EVENT_OF_LEAF}
    where l.leaf_index >= ${from} and l.leaf_index < ${upto} order by l.leaf_index`.execute(db);
  return r.rows.map((row) => {
    const index = Number(row.leaf_index);
    if (row.missing) return { index, text: undefined };
    if (row.body !== null) return { index, text: leafFromBody(row.body, index) };
    return { index, text: legacyLeafOrEmpty(legacyRow(row.legacy!), index) };
  });
}

function legacyRow(json: string): LegacyRow {
  const raw = JSON.parse(json) as Omit<LegacyRow, 'at'> & { at_ms: number };
  return { ...raw, at: new Date(raw.at_ms) };
}

/** A tampered legacy payload may have no canonical form: then it cannot be the leaf that was hashed. */
function legacyLeafOrEmpty(row: LegacyRow, index: number): string {
  try {
    return leafFromLegacy(row, index);
  } catch {
    return '';
  }
}
