import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit';
import { registerConsoleCommand } from './commands/console';
import { registerDemoCommand } from './commands/demo';
import { registerDevCommands } from './commands/dev';
import { registerDevVaultCommand } from './commands/devvault';
import { registerGrantCommands } from './commands/grant';
import { registerInspectCommands } from './commands/inspect';
import { registerMigrateCommand } from './commands/migrate';
import { registerReconcileCommand } from './commands/reconcile';
import { registerServeCommand } from './commands/serve';
import { registerTaskCommands } from './commands/task';

export function buildProgram(): Command {
  const program = new Command('grantline')
    .description('Grantline: a credential broker for autonomous AI agents')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerReconcileCommand(program);
  registerTaskCommands(program);
  registerGrantCommands(program);
  registerInspectCommands(program);
  registerAuditCommands(program);
  registerDevCommands(program);
  registerDevVaultCommand(program);
  registerDemoCommand(program);
  registerConsoleCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
