import { createDomainUnitOfWork } from '../access/unit';
import { loadScopeCatalogue } from '../config/scope-catalogue';
import { createDatabaseTargets } from '../revocation/database-lockout';
import { createReconciler, type Orphan } from '../revocation/reconcile';
import { systemClock } from '../shared/clock';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { createVaultAdapter } from '../vault';
import { out } from './cli-output';
import { CliFailure } from './client-options';
import { loadConfigOrExit } from './config-or-exit';
import { openDatabaseForCli } from './open-database';

const line = (o: Orphan) => `${o.kind.padEnd(5)}  ${o.id}${o.where ? `  (${o.where})` : ''}`;

/** `grantline reconcile [--dry-run]`: one reconciliation pass against the configured Vault and databases. */
export async function runReconcile(opts: { dryRun: boolean; json: boolean }): Promise<void> {
  const config = loadConfigOrExit();
  if (!config.vault)
    throw new CliFailure('reconcile needs VAULT_ADDR and VAULT_TOKEN', [
      '  a local dev Vault lives inside the broker process: the broker reconciles by itself',
      '  every GRANTLINE_RECONCILE_INTERVAL (default 60 s)',
    ]);
  const logger = createLogger({ level: 'warn' }, process.stderr);
  const database = await openDatabaseForCli();
  const targets = createDatabaseTargets(config.revocation.databaseTargets, logger);
  try {
    const catalogue = loadScopeCatalogue(config.configDir);
    const reconciler = createReconciler({
      db: database.db,
      uow: createDomainUnitOfWork(database.db, systemClock),
      vault: createVaultAdapter(
        { addr: config.vault.addr, token: config.vault.token, timeoutMs: config.vault.timeoutMs },
        { logger },
      ),
      targets,
      clock: systemClock,
      logger,
      metrics: createMetrics({ collectProcess: false }),
      leasePrefixes: [...catalogue.values()].flatMap((s) =>
        s.vault.kind === 'dynamic' ? [`${s.vault.path}/`] : [],
      ),
      loginPattern: new RegExp(config.revocation.reconcileLoginPattern),
      graceMs: 0,
    });
    const result = await reconciler.reconcileOnce({ dryRun: opts.dryRun, targets: targets.names() });
    if (opts.json) out(JSON.stringify({ dry_run: opts.dryRun, ...result }, null, 2));
    else {
      out(
        `${result.orphans.length} orphaned credential(s)${opts.dryRun ? ' (dry run: nothing changed)' : ''}`,
      );
      for (const o of result.orphans) out(`  ${line(o)}`);
      if (!opts.dryRun) out(`${result.revoked.length} revoked (each one is on the audit log)`);
    }
  } finally {
    await targets.close();
    await database.shutdown();
  }
}
