#!/usr/bin/env node
// Structure rules that neither tsc, Biome nor dependency-cruiser checks (run in CI by `npm run lint`):
// - no file in server/ over MAX_FILE lines, no function over MAX_FUNCTION lines of its own body
//   (a nested function counts on its own, not in its parent: a factory of small closures is fine);
// - the domain opens write transactions only through the unit of work (server/db/unit-of-work.ts).
// Prints every violation and exits 1 when there is one; `--report` prints the largest file and function.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..', 'server');
const MAX_FILE = 300;
const MAX_FUNCTION = 60;
const TRANSACTION_OWNERS = new Set(['db/unit-of-work.ts']);
const TRANSACTION_FREE_ZONES = ['dev/'];

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const isFunction = (n) =>
  ts.isFunctionDeclaration(n) ||
  ts.isFunctionExpression(n) ||
  ts.isArrowFunction(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessor(n);

function functionName(n) {
  if (n.name) return n.name.getText();
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && p.name) return p.name.getText();
  return '<anonymous>';
}

/** Lines of `fn` minus the lines of the functions nested directly inside it. */
function ownLines(fn, src) {
  const lines = (n) =>
    src.getLineAndCharacterOfPosition(n.getEnd()).line -
    src.getLineAndCharacterOfPosition(n.getStart()).line +
    1;
  let nested = 0;
  const walk = (n) => {
    if (n !== fn && isFunction(n)) {
      nested += lines(n);
      return;
    }
    ts.forEachChild(n, walk);
  };
  walk(fn);
  return lines(fn) - nested;
}

function inspect(file) {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  const text = fs.readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const functions = [];
  const visit = (n) => {
    if (isFunction(n)) {
      const line = src.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      functions.push({ where: `server/${rel}:${line}`, name: functionName(n), lines: ownLines(n, src) });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  const opensTransaction =
    /\.transaction\(\)/.test(text) &&
    !TRANSACTION_OWNERS.has(rel) &&
    !TRANSACTION_FREE_ZONES.some((z) => rel.startsWith(z));
  return { rel, lines: text.split('\n').length, functions, opensTransaction };
}

const results = [...files(ROOT)].map(inspect);
const problems = [];
for (const r of results) {
  if (r.lines > MAX_FILE) problems.push(`server/${r.rel}: ${r.lines} lines (at most ${MAX_FILE})`);
  for (const f of r.functions)
    if (f.lines > MAX_FUNCTION)
      problems.push(`${f.where} ${f.name}: ${f.lines} lines (at most ${MAX_FUNCTION})`);
  if (r.opensTransaction)
    problems.push(`server/${r.rel}: opens a transaction itself; use the unit of work (db/unit-of-work.ts)`);
}

if (process.argv.includes('--report')) {
  const file = results.reduce((a, b) => (b.lines > a.lines ? b : a));
  const fn = results.flatMap((r) => r.functions).reduce((a, b) => (b.lines > a.lines ? b : a));
  console.log(`largest file: server/${file.rel} (${file.lines} lines)`);
  console.log(`largest function: ${fn.name} at ${fn.where} (${fn.lines} lines of its own)`);
}
for (const p of problems) console.log(p);
if (problems.length) {
  console.log(`${problems.length} structure problem(s)`);
  process.exit(1);
}
console.log(`structure ok: ${results.length} files in server/`);
