import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The tools cache the installers fill (scripts/install-tools): `${GRANTLINE_TOOLS:-~/.cache/grantline/tools}`. */
export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRANTLINE_TOOLS || path.join(os.homedir(), '.cache', 'grantline', 'tools');
}

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** An executable named `name` on PATH, else in the tools cache's bin/, else undefined. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  const cached = path.join(toolsCacheDir(env), 'bin', name);
  return isExecutable(cached) ? cached : undefined;
}

/** The OpenBao binary: `bao` on PATH or in the tools cache. */
export const findBao = (env: NodeJS.ProcessEnv = process.env): string | undefined => findTool('bao', env);
