import type { Command } from 'commander';
import { type DevVault, startDevVault } from '../../devvault';
import { createLogger } from '../../shared/logger';
import { parseCount } from '../cli-args';
import { out } from '../cli-output';

export interface DevVaultCliOptions {
  port: number;
  host: string;
  rootToken?: string;
  databaseUrl?: string;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Starts the dev Vault, prints how to reach it, waits for `stopped`, then closes it. */
export async function runDevVault(
  opts: DevVaultCliOptions,
  stopped: Promise<unknown> = untilSignalled(),
): Promise<void> {
  const vault: DevVault = await startDevVault({
    port: opts.port,
    host: opts.host,
    ...(opts.rootToken ? { rootToken: opts.rootToken } : {}),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    logger: createLogger({ level: 'warn', name: 'devvault' }, process.stderr),
  });
  // The root token is the point of this command (like `vault server -dev`): printed, never logged.
  out(`VAULT_ADDR=${vault.url}`);
  out(`VAULT_TOKEN=${vault.rootToken}`);
  out('# development only: state is in memory and lost on exit; Ctrl-C to stop');
  try {
    await stopped;
  } finally {
    await vault.close();
  }
}

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
      await runDevVault({ ...o, ...(rootToken ? { rootToken } : {}) });
    });
}
