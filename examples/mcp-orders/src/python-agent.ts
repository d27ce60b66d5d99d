import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const REPO = path.resolve(__dirname, '../../..');
const AGENT_SCRIPT = path.join(REPO, 'examples/mcp-orders/python/agent.py');

/** A Python ≥ 3.11 on PATH (or $PYTHON), for the virtualenv. */
function findPython(): string {
  for (const candidate of [process.env.PYTHON, 'python3.13', 'python3.12', 'python3.11', 'python3']) {
    if (!candidate) continue;
    const ok = spawnSync(candidate, ['-c', 'import sys; sys.exit(sys.version_info < (3, 11))']);
    if (ok.status === 0) return candidate;
  }
  throw new Error('the Python agent needs Python 3.11 or newer on PATH (or set PYTHON=…)');
}

/**
 * The virtualenv the Python SDK's tests use (`.venv-sdk`, or $GRANTLINE_SDK_VENV), with this repository's
 * `grantline` package and the official `mcp` package installed (pip from PyPI the first time).
 */
export function pythonForAgent(): string {
  const venv = path.resolve(REPO, process.env.GRANTLINE_SDK_VENV ?? '.venv-sdk');
  const python = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(python)) {
    const made = spawnSync(findPython(), ['-m', 'venv', venv], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error(`cannot create the virtualenv ${venv}`);
  }
  const pip = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `${path.join(REPO, 'sdk/python')}[mcp]`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (pip.status !== 0) throw new Error('pip could not install ./sdk/python[mcp] into the virtualenv');
  return python;
}

export interface PythonAgentRun {
  /** Resolves with each line the agent prints, in order, as it prints them. */
  lines: AsyncIterableIterator<string>;
  /** Tells the agent the task was closed: it calls once more and must be refused. */
  taskClosed(): void;
  exited: Promise<number | null>;
  output(): string;
  stop(): void;
}

/** Starts the Python MCP agent for `taskId` against the MCP server at `mcpUrl`. */
export function startPythonAgent(
  python: string,
  o: { mcpUrl: string; taskId: string; home: string },
): PythonAgentRun {
  const child = spawn(
    python,
    [AGENT_SCRIPT, '--mcp-url', o.mcpUrl, '--task', o.taskId, '--then-wait-for-close'],
    {
      env: { ...process.env, GRANTLINE_HOME: o.home, PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines: {
      next: async () => {
        const r = await lines.next();
        if (!r.done) output.push(`${r.value}\n`);
        return r;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    },
    taskClosed: () => child.stdin.end('closed\n'),
    exited,
    output: () => output.join(''),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
