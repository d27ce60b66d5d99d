import cluster from 'node:cluster';
import os from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../../config/config';
import { parseCount } from '../cli-args';

function parseWorkers(input: string): number {
  const n = parseCount(input);
  if (n < 1 || n > 256) throw new InvalidArgumentError('between 1 and 256');
  return n;
}

/** One broker in this process (`--workers 1`). */
async function serveHere(config: Config): Promise<void> {
  const { startBroker } = await import('../../main.js');
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
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the broker (embedded PostgreSQL, dev Vault and a dev trust domain unless DATABASE_URL, VAULT_ADDR and GRANTLINE_TRUST_BUNDLE are set)',
    )
    .option(
      '--workers <n>',
      'broker processes sharing the listen ports (node:cluster); default: the number of cores',
      parseWorkers,
      os.availableParallelism(),
    )
    .action(async (o: { workers: number }) => {
      if (cluster.isWorker) {
        const { runWorker } = await import('../cluster/worker.js');
        return runWorker();
      }
      const { loadConfigOrExit } = await import('../config-or-exit.js');
      const config = loadConfigOrExit();
      if (o.workers === 1) return serveHere(config);
      const { runPrimary } = await import('../cluster/primary.js');
      return runPrimary(config, o.workers);
    });
}
