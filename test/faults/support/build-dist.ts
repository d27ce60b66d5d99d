import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
/** What `node bin/grantline.js` loads; tsc rewrites every output on each build, so its mtime is the build's. */
const ENTRY = path.join(ROOT, 'dist/server/cli/main.js');
const SOURCES = ['server', 'migrations', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(p: string): number {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Whether dist/ is missing or older than any source the broker's build is made from. */
export function distIsStale(): boolean {
  if (!fs.existsSync(ENTRY)) return true;
  const built = fs.statSync(ENTRY).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(ROOT, s)) > built);
}

/**
 * The fault suite runs brokers as real child processes (`node bin/grantline.js serve`), which run the
 * compiled dist/: it is rebuilt here when missing or stale, so a test never exercises old code.
 */
export function ensureDistBuilt(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  if (!distIsStale()) return;
  log('faults: dist/ is missing or older than the sources; building it (tsc -p tsconfig.build.json)');
  const started = Date.now();
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  log(`faults: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export const projectRoot = ROOT;
