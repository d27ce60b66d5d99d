import type { Command } from 'commander';
import { buildProgram } from '../../../server/cli/main';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function overrideExits(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) overrideExits(sub);
}

/**
 * Runs `grantline <args>` in-process on a fresh program, capturing what it writes to stdout/stderr and
 * the exit code it sets (commander's own parse errors become exit code 1 instead of process.exit).
 */
export async function runCli(args: string[]): Promise<CliRun> {
  const program = buildProgram();
  overrideExits(program);
  let stdout = '';
  let stderr = '';
  const text = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout += text(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    stderr += text(chunk);
    return true;
  });
  const previous = process.exitCode;
  process.exitCode = undefined;
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'grantline', ...args]);
    exitCode = Number(process.exitCode ?? 0);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (code === undefined) throw e;
    exitCode = code;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = previous;
  }
  return { stdout, stderr, exitCode };
}
