import type { Command } from 'commander';
import type { VerifyCommandOptions } from './audit-log';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `grantline audit verify|export`: straight from the database (DATABASE_URL, or the embedded PostgreSQL
 * under $GRANTLINE_HOME), so they depend on no broker being up or honest; `verify --offline FILE` needs
 * neither database nor broker.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log (an RFC 9162 transparency log)');
  audit
    .command('verify')
    .description(
      'recompute the Merkle tree from every event and check every checkpoint; exit code 1 when the log is broken',
    )
    .option('--offline <file>', 'verify an export file (grantline audit export) with no database or broker')
    .option(
      '--jwks <file-or-url>',
      "the audit keys to trust (the broker's JWKS); default: the configured key",
    )
    .option('--trusted-checkpoint <file>', 'a checkpoint kept earlier (JSON); repeatable', collect)
    .option('--json', 'print the result as JSON')
    .option('--batch-size <n>', 'leaves read per query', (v) => Number.parseInt(v, 10))
    .action(async (o: VerifyCommandOptions) => {
      const { runAuditVerify } = await import('./audit-log.js');
      await runAuditVerify(o);
    });
  audit
    .command('export')
    .description('write every event and checkpoint to FILE (JSON lines) for `audit verify --offline`')
    .requiredOption('--out <file>', 'where to write the export')
    .option('--jwks <file-or-url>', 'the audit keys to include; default: the configured key')
    .action(async (o: { out: string; jwks?: string }) => {
      const { runAuditExport } = await import('./audit-log.js');
      await runAuditExport(o);
    });
}
