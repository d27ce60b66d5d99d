import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { JWK } from 'jose';
import {
  auditKeyring,
  type Checkpoint,
  exportAuditLog,
  type VerifyReport,
  verifyAuditLog,
  verifyExportFile,
} from '../../audit';
import { createLogger } from '../../shared/logger';
import { configuredAuditJwks } from '../../wiring/audit-log';
import { errLines, out, printJson } from '../cli-output';
import { loadConfigOrExit } from '../config-or-exit';
import { openDatabaseForCli } from '../open-database';

export function renderVerifyResult(r: VerifyReport): string {
  if (r.ok) {
    const latest = r.latestCheckpoint
      ? `latest checkpoint at size ${r.latestCheckpoint.tree_size}`
      : 'no checkpoint yet';
    const legacy = r.legacyEvents ? `, ${r.legacyEvents} hash-chained events before it` : '';
    return `ok: ${r.checked} leaves, root ${r.rootHash}, ${r.checkpointsChecked} checkpoints checked (${latest})${legacy}`;
  }
  const b = r.brokenAt!;
  const where = b.leafIndex === null ? `event seq ${b.seq}` : `leaf ${b.leafIndex}`;
  return `BROKEN at ${where}: ${b.reason} (${b.detail}); ${r.checked} leaves intact before it`;
}

export interface VerifyCommandOptions {
  offline?: string;
  jwks?: string;
  trustedCheckpoint?: string[];
  json?: boolean;
  batchSize?: number;
}

/** A JWKS from a file or an http(s) URL (the broker's /.well-known/jwks.json). */
async function readJwks(source: string): Promise<{ keys: JWK[] }> {
  const text = /^https?:\/\//.test(source)
    ? await (await fetch(source, { signal: AbortSignal.timeout(10_000) })).text()
    : await readFile(source, 'utf8');
  const parsed = JSON.parse(text) as { keys?: JWK[] };
  if (!Array.isArray(parsed.keys)) throw new Error(`${source} is not a JWKS`);
  return { keys: parsed.keys };
}

async function readCheckpoints(files: readonly string[] = []): Promise<Checkpoint[]> {
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Checkpoint));
}

/** The keys to trust: --jwks, else the configured audit key; exits 2 when there is neither. */
async function trustedJwks(source: string | undefined): Promise<{ keys: JWK[] }> {
  if (source) return readJwks(source);
  const configured = await configuredAuditJwks(
    loadConfigOrExit(),
    createLogger({ level: 'warn' }, process.stderr),
  );
  if (configured) return configured;
  errLines(["grantline: no audit key is configured here: pass --jwks <file-or-url> (the broker's JWKS)"]);
  process.exit(2);
}

function report(r: VerifyReport, json: boolean | undefined): void {
  if (json) printJson(r);
  else out(renderVerifyResult(r));
  if (!r.ok) process.exitCode = 1;
}

export async function runAuditVerify(o: VerifyCommandOptions): Promise<void> {
  const trusted = await readCheckpoints(o.trustedCheckpoint);
  const progress = (checked: number, total: number) => errLines([`checked ${checked}/${total}`]);
  if (o.offline) {
    const ring = o.jwks ? await auditKeyring(await readJwks(o.jwks)) : undefined;
    if (!ring) errLines(['note: trusting the keys inside the export; pass --jwks to check who signed it']);
    const r = await verifyExportFile(o.offline, { trusted, onProgress: progress, ...(ring ? { ring } : {}) });
    report(r, o.json);
    return;
  }
  const ring = await auditKeyring(await trustedJwks(o.jwks));
  const database = await openDatabaseForCli();
  try {
    report(
      await verifyAuditLog(database.db, ring, {
        trusted,
        onProgress: progress,
        ...(o.batchSize ? { pageSize: o.batchSize } : {}),
      }),
      o.json,
    );
  } finally {
    await database.shutdown();
  }
}

export async function runAuditExport(o: { out: string; jwks?: string }): Promise<void> {
  const jwks = await trustedJwks(o.jwks);
  const database = await openDatabaseForCli();
  try {
    const file = createWriteStream(o.out, { mode: 0o600 });
    const written = await exportAuditLog(database.db, file, jwks);
    file.end();
    await finished(file);
    out(`exported ${written.treeSize} events and ${written.checkpoints} checkpoints to ${o.out}`);
  } finally {
    await database.shutdown();
  }
}
