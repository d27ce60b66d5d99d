import type { Command } from 'commander';
import type { VerifyResult } from '../../audit';
import { errLines, out, printJson } from '../cli-output';

async function openDatabase() {
  const { openDatabaseForCli } = await import('../open-database.js');
  return openDatabaseForCli();
}

export function renderVerifyResult(r: VerifyResult): string {
  if (r.ok) return `ok: ${r.checked} events, head seq ${r.headSeq} hash ${r.headHash}`;
  return `BROKEN at seq ${r.brokenAt?.seq}: ${r.brokenAt?.reason} (${r.checked} events intact before it)`;
}

/**
 * `grantline audit verify`: walks the hash chain straight from the database (DATABASE_URL, or the
 * embedded PostgreSQL under $GRANTLINE_HOME), so it does not depend on a broker being up or honest.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('verify the audit hash chain in the database; exit code 1 when a link is broken')
    .option('--json', 'print the result as JSON')
    .option('--batch-size <n>', 'events read per query', (v) => Number.parseInt(v, 10))
    .action(async (o: { json?: boolean; batchSize?: number }) => {
      const { verifyAuditChain } = await import('../../audit/index.js');
      const database = await openDatabase();
      try {
        const result = await verifyAuditChain(database.db, {
          ...(o.batchSize ? { batchSize: o.batchSize } : {}),
          onProgress: (checked, total) => errLines([`checked ${checked}/${total}`]),
        });
        if (o.json) printJson(result);
        else out(renderVerifyResult(result));
        if (!result.ok) process.exitCode = 1;
      } finally {
        await database.shutdown();
      }
    });
}
