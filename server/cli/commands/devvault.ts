import type { Command } from 'commander';
import type { DevVaultCliOptions } from '../../dev/vault/run-dev-vault';
import { parseCount } from '../cli-args';

export function registerDevVaultCommand(program: Command): void {
  program
    .command('devvault')
    .description('run the development Vault (a Vault-API-compatible server, like `vault server -dev`)')
    .option('--port <port>', 'listen port (0 = any free port)', parseCount, 8200)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option(
      '--root-token <token>',
      'the root token (default: $VAULT_DEV_ROOT_TOKEN_ID or a random hvs.… token)',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL for the database secrets engine when its config names no host',
    )
    .action(async (o: DevVaultCliOptions) => {
      const rootToken = o.rootToken ?? process.env.VAULT_DEV_ROOT_TOKEN_ID;
      const { runDevVault } = await import('../../dev/vault/run-dev-vault.js');
      await runDevVault({ ...o, ...(rootToken ? { rootToken } : {}) });
    });
}
