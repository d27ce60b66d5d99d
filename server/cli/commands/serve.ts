import type { Command } from 'commander';
import { loadConfig } from '../../config/config';
import { ConfigError } from '../../config/config.errors';
import { startBroker } from '../../main';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the broker (embedded PostgreSQL, dev Vault and a dev trust domain unless DATABASE_URL, VAULT_ADDR and GRANTLINE_TRUST_BUNDLE are set)',
    )
    .action(async () => {
      const config = loadConfigOrExit();
      const broker = await startBroker(config);
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

export function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`grantline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
