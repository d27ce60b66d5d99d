import { Command } from 'commander';
import { registerMigrateCommand } from './commands/migrate';
import { registerServeCommand } from './commands/serve';

export function buildProgram(): Command {
  const program = new Command('grantline')
    .description('Grantline: a credential broker for autonomous AI agents')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerServeCommand(program);
  registerMigrateCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
