import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the broker (embedded PostgreSQL, dev Vault and a dev trust domain unless DATABASE_URL, VAULT_ADDR and GRANTLINE_TRUST_BUNDLE are set)',
    )
    .action(async () => {
      const { loadConfigOrExit } = await import('../config-or-exit.js');
      const { startBroker } = await import('../../main.js');
      const broker = await startBroker(loadConfigOrExit());
      process.stdout.write(`grantline is ready at ${broker.url}\n`);
      const shutdown = (signal: string) => {
        broker.logger.info({ signal }, 'shutting down');
        broker.stop().then(
          () => process.exit(0),
          (err) => {
            broker.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
