import { createLogger } from '../../shared/logger';
import { type DevVault, startDevVault } from './index';

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

const print = (line: string) => process.stdout.write(`${line}\n`);

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
  print(`VAULT_ADDR=${vault.url}`);
  print(`VAULT_TOKEN=${vault.rootToken}`);
  print('# development only: state is in memory and lost on exit; Ctrl-C to stop');
  try {
    await stopped;
  } finally {
    await vault.close();
  }
}
