import type { Command } from 'commander';

export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description(
      'compare Vault token accessors, leases and database logins with the grants, and revoke what is alive without a live grant',
    )
    .option('--dry-run', 'only list what is orphaned; change nothing')
    .option('--json', 'print the result as JSON')
    .action(async (o: { dryRun?: boolean; json?: boolean }) => {
      const { runReconcile } = await import('../reconcile-run.js');
      await runReconcile({ dryRun: o.dryRun === true, json: o.json === true });
    });
}
