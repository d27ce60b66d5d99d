import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JWK } from 'jose';
import type { DbOrTx } from '../../db/database';
import type { Checkpoint } from '../audit.types';
import type { LegacyRow } from '../audit-leaf';
import { type AuditKeyring, auditKeyring } from '../checkpoints/audit-keys';
import { listCheckpoints } from '../checkpoints/checkpoint.store';
import { readTreeEnd } from '../sequencer/sequencer.store';
import { readLeafTexts } from './leaf-pages';
import type { WalkLeaf } from './tree-walk';
import type { VerifyBreak, VerifyOptions, VerifyReport } from './verify.types';
import { buildReport, startWalk } from './verify-report';

export const EXPORT_FORMAT = 'grantline-audit-log';

/**
 * The export, one JSON value per line: a header (format, sizes, the audit keys of the JWKS, the frozen
 * head of the legacy chain), then one `{"checkpoint": …}` line per checkpoint, then one line per leaf
 * holding exactly the leaf's bytes (its RFC 8785 JSON, which is also the event as the API returns it),
 * in leaf order; `{"event_missing": N}` stands for a leaf whose event row is gone.
 */
export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: 1;
  exported_at: string;
  tree_size: number;
  checkpoints: number;
  jwks: { keys: JWK[] };
  legacy_head: { seq: number; hash: string } | null;
}

type Sink = NodeJS.WritableStream;

async function write(out: Sink, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

/** Writes the log as it stands: every checkpoint, and every leaf up to the end read after them. */
export async function exportAuditLog(
  db: DbOrTx,
  out: Sink,
  jwks: { keys: JWK[] },
  opts: { pageSize?: number; now?: Date } = {},
): Promise<{ treeSize: number; checkpoints: number }> {
  const checkpoints = await listCheckpoints(db, 0);
  const end = await readTreeEnd(db);
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: 1,
    exported_at: (opts.now ?? new Date()).toISOString(),
    tree_size: end.size,
    checkpoints: checkpoints.length,
    jwks: { keys: jwks.keys.filter((k) => k.use === 'audit') },
    legacy_head: head && Number(head.seq) > 0 ? { seq: Number(head.seq), hash: head.hash } : null,
  };
  await write(out, JSON.stringify(header));
  for (const checkpoint of checkpoints) await write(out, JSON.stringify({ checkpoint }));
  const pageSize = opts.pageSize ?? 10_000;
  for (let from = 0; from < end.size; from += pageSize) {
    for (const leaf of await readLeafTexts(db, from, Math.min(end.size, from + pageSize))) {
      await write(out, leaf.text ?? JSON.stringify({ event_missing: leaf.index }));
    }
  }
  return { treeSize: end.size, checkpoints: checkpoints.length };
}

/**
 * Checks an export with no database or broker: recomputes the tree from the leaf lines and holds it
 * against every checkpoint (and any the auditor kept). Without `ring`, the keys are the export's own,
 * which proves consistency only; pass the broker's JWKS (fetched independently) to prove origin.
 */
export async function verifyExportFile(
  path: string,
  opts: VerifyOptions & { ring?: AuditKeyring } = {},
): Promise<VerifyReport & { keysFrom: 'export' | 'caller' }> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })[Symbol.asyncIterator]();
  const header = parseHeader((await lines.next()).value);
  const checkpoints: Checkpoint[] = [];
  for (let i = 0; i < header.checkpoints; i += 1) {
    checkpoints.push(
      (JSON.parse(String((await lines.next()).value)) as { checkpoint: Checkpoint }).checkpoint,
    );
  }
  const ring = opts.ring ?? (await auditKeyring(header.jwks));
  const walk = await startWalk(checkpoints, opts.trusted ?? [], ring);
  for (let r = await lines.next(); !r.done && !walk.broken; r = await lines.next()) {
    walk.add(leafOfLine(r.value));
    if (walk.size % 100_000 === 0) opts.onProgress?.(walk.size, header.tree_size);
  }
  const broken: VerifyBreak | undefined =
    walk.finish() ??
    (walk.size < header.tree_size ? missingTail(walk.size, header.tree_size) : undefined) ??
    (header.legacy_head ? walk.finishLegacy(header.legacy_head) : undefined);
  return {
    ...buildReport(walk, header.tree_size, checkpoints, broken),
    keysFrom: opts.ring ? 'caller' : 'export',
  };
}

function parseHeader(line: unknown): ExportHeader {
  let header: Partial<ExportHeader> | undefined;
  try {
    header = JSON.parse(String(line)) as Partial<ExportHeader>;
  } catch {
    header = undefined;
  }
  if (header?.format !== EXPORT_FORMAT || header.version !== 1) {
    throw new Error(`not a ${EXPORT_FORMAT} export (version 1)`);
  }
  return header as ExportHeader;
}

function leafOfLine(line: string): WalkLeaf {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (typeof value.event_missing === 'number') return { index: value.event_missing, text: undefined };
  const index = typeof value.leaf_index === 'number' ? value.leaf_index : -1;
  if (typeof value.prev_hash !== 'string') return { index, text: line };
  const legacy = { ...value, at: new Date(String(value.at)) } as unknown as LegacyRow;
  return { index, text: line, legacy };
}

const missingTail = (size: number, expected: number): VerifyBreak => ({
  leafIndex: size,
  reason: 'leaf_missing',
  detail: `the export ends after ${size} of its ${expected} leaves`,
});
