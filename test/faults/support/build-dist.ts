import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

interface Build {
  /** What the broker loads from this build; tsc rewrites every output on each build, so its mtime is the build's. */
  entry: string;
  sources: string[];
  tsconfig: string;
}

/**
 * In build order: the SDK workspace first (the broker imports `@grantline/sdk/workload-api` from its dist/,
 * and the broker's own build reads the SDK's declarations), then the broker.
 */
const BUILDS: Build[] = [
  {
    entry: 'sdk/typescript/dist/workload-api/index.js',
    sources: ['sdk/typescript/src', 'sdk/typescript/tsconfig.build.json', 'sdk/typescript/package.json'],
    tsconfig: 'sdk/typescript/tsconfig.build.json',
  },
  {
    entry: 'dist/server/cli/main.js',
    sources: ['server', 'migrations', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    tsconfig: 'tsconfig.build.json',
  },
];

function newestMtime(p: string): number {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

function isStale(b: Build): boolean {
  const entry = path.join(ROOT, b.entry);
  if (!fs.existsSync(entry)) return true;
  const built = fs.statSync(entry).mtimeMs;
  return b.sources.some((s) => newestMtime(path.join(ROOT, s)) > built);
}

/** Whether the SDK's or the broker's dist/ is missing or older than any source it is made from. */
export function distIsStale(): boolean {
  return BUILDS.some(isStale);
}

/**
 * The fault suite runs brokers as real child processes (`node bin/grantline.js serve`), which run the
 * compiled dist/ (and the SDK workspace's): each is rebuilt here when missing or stale, so a test never
 * exercises old code.
 */
export function ensureDistBuilt(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  for (const b of BUILDS) {
    if (!isStale(b)) continue;
    log(`faults: ${b.entry} is missing or older than its sources; building it (tsc -p ${b.tsconfig})`);
    const started = Date.now();
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', b.tsconfig], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    log(`faults: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

export const projectRoot = ROOT;
