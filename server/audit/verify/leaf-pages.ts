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
 * the lookup into a hash join that reads the whole events table for every page). `b` is 0x00 followed
 * by the body's UTF-8 bytes: the start of what RFC 9162 §2.1.1 hashes for the leaf.
 */
const EVENT_OF_LEAF = sql`left join lateral (
  select seq, at, type, task_id, grant_id, principal, payload, prev_hash, hash, body,
    '\\x00'::bytea || convert_to(body, 'UTF8') as b
  from audit_events where seq = l.seq offset 0) e on true`;

/** Where the body's first `,"payload":` starts in `b` (0: nowhere), as leafFromBody looks for it. */
const PAYLOAD_AT = sql`position(${PAYLOAD_MEMBER}::bytea in e.b)`;

/**
 * SHA-256(0x00 ‖ leaf) of rows `x` carrying `b`, `at` (PAYLOAD_AT) and `leaf_index`: the body with
 * `,"leaf_index":N` spliced in before its first `,"payload":`, exactly as leafFromBody builds it; null
 * when the body has no payload member (or no event). Byte offsets throughout: nothing is rescanned.
 */
const LEAF_HASH = sql`case when x.at > 0 then sha256(overlay(x.b
  placing convert_to(',"leaf_index":' || x.leaf_index || ',"payload":', 'UTF8') from x.at for 11)) end`;

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
 * The page's events are fetched in one ordered pass over the primary key (`= any` of the page's seqs:
 * one index descent for keys that sit close together, as commit order and seq order nearly agree)
 * instead of one probe per leaf; `k` numbers the leaves in index order, so any gap shows.
 */
export async function readCleanPage(db: DbOrTx, from: number, upto: number): Promise<CleanPage | undefined> {
  const r = await sql<{ n: string; clean: boolean | null; hashes: Buffer | null }>`
    with l as materialized (
      select leaf_index, seq, hash, row_number() over (order by leaf_index) as k
      from audit_leaves where leaf_index >= ${from} and leaf_index < ${upto})
    select count(*) as n,
      bool_and(p.computed is not null and p.computed = p.stored and p.leaf_index = ${from} + p.k - 1) as clean,
      string_agg(p.computed, ''::bytea order by p.leaf_index) as hashes
    from (
      select x.leaf_index, x.k, x.stored, ${LEAF_HASH} as computed
      from (
        select l.leaf_index, l.k, l.hash as stored, e.b, ${PAYLOAD_AT} as at
        from l left join (
          select seq, '\\x00'::bytea || convert_to(body, 'UTF8') as b from audit_events
          where seq = any(array(select seq from l))) e on e.seq = l.seq
        offset 0) x
      offset 0) p`.execute(db);
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
    select x.leaf_index, x.missing, x.is_new, ${LEAF_HASH} as computed, x.stored, x.legacy
    from (
      select l.leaf_index, e.seq is null as missing, e.body is not null as is_new, e.b, ${PAYLOAD_AT} as at,
        l.hash as stored, case when e.seq is not null and e.body is null then ${LEGACY_JSON} end as legacy
      from audit_leaves l ${EVENT_OF_LEAF}
      where l.leaf_index >= ${from} and l.leaf_index < ${upto}
      offset 0) x
    order by x.leaf_index`.execute(db);
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
