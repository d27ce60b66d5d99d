import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const DEPENDENCY_GROUPS: Array<[RegExp, string]> = [
  [/cedar-wasm/, 'Cedar (policy, WASM)'],
  [/node_modules\/jose\//, 'jose (JWT sign/verify)'],
  [/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//, 'pg driver'],
  [/node_modules\/kysely\//, 'kysely (query building)'],
  [
    /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|type-is|content-type|qs|iconv-lite|on-finished|path-to-regexp)\//,
    'express / HTTP parsing',
  ],
  [
    /node_modules\/(pino|pino-http|sonic-boom|fast-redact|@pinojs|thread-stream|quick-format-unescaped|safe-stable-stringify)\//,
    'pino (logging)',
  ],
  [
    /node_modules\/(axios|node-vault|follow-redirects|form-data|proxy-from-env|mustache|tv4|combined-stream|asynckit|mime-types|debug)\//,
    'node-vault + axios (Vault client)',
  ],
  [/node_modules\/zod\//, 'zod (validation)'],
  [/node_modules\/prom-client\//, 'prom-client (metrics)'],
  [/node_modules\/(@peculiar|asn1js|pvtsutils|pvutils|tslib)\//, '@peculiar/x509'],
  [/node_modules\/better-sse\//, 'better-sse'],
];

/** Which part of the process a frame belongs to, by its script URL. */
export function categoryOf(f: CallFrame): string {
  if (f.functionName === '(idle)') return '(idle)';
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)' || f.functionName === '(root)')
    return '(program: native, not attributed)';
  // Wasm frames belong to whoever called in: Cedar's glue, or undici (its HTTP parser, llhttp, is Wasm).
  if (f.url.startsWith('wasm:')) return 'node core: wasm';
  for (const [re, name] of DEPENDENCY_GROUPS) if (re.test(f.url)) return name;
  const own = /\/dist\/server\/([^/]+)\//.exec(f.url);
  if (own) return `grantline ${own[1]}/`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.url);
  if (dep) return `other dependency (${dep[1]})`;
  if (/^node:internal\/(http|_http|streams|stream|net|dns|url|timers)/.test(f.url))
    return 'node core: http, net, streams';
  if (/^node:internal\/crypto|webcrypto/.test(f.url)) return 'node core: crypto';
  if (f.url.startsWith('node:') || f.url === '') return 'node core: other (builtins, JSON, promises)';
  return 'other';
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  /** Share of the profiled time the event loop was busy (not idle). */
  busy: number;
  /** Busy time by category, share of busy time, largest first. */
  categories: Array<{ category: string; share: number; ms: number }>;
  /** The functions with the most self time. */
  top: Array<{ fn: string; where: string; ms: number; share: number }>;
}

const isCore = (c: string) => c.startsWith('node core') || c.startsWith('(program') || c === 'GC';

/**
 * Native and Node-core frames (a socket write, JSON.stringify, a promise job) are charged to the nearest
 * caller that is a dependency or Grantline's own code, so "where the time goes" names who asked for it
 * (the pg driver's socket writes count as the pg driver's).
 */
function attributedFrames(p: CpuProfile): Map<number, CallFrame & { category: string }> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const out = new Map<number, CallFrame & { category: string }>();
  for (const n of p.nodes) {
    let category = categoryOf(n.callFrame);
    if (isCore(category) && category !== 'GC') {
      for (let id = parent.get(n.id); id !== undefined; id = parent.get(id)) {
        const c = categoryOf(byId.get(id)!);
        if (!isCore(c) && c !== '(idle)') {
          category = c;
          break;
        }
      }
    }
    out.set(n.id, { ...n.callFrame, category });
  }
  return out;
}

export function summarizeProfile(file: string, topN = 15): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const frames = attributedFrames(p);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const byCat = new Map<string, number>();
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of self) {
    const f = frames.get(id)!;
    total += us;
    const cat = f.category;
    if (cat === '(idle)') {
      idle += us;
      continue;
    }
    byCat.set(cat, (byCat.get(cat) ?? 0) + us);
    const where = `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName}@${where}`;
    const e = byFn.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    byFn.set(key, e);
  }
  const busy = total - idle;
  const share = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 1000;
  return {
    file: path.basename(file),
    seconds: Math.round((p.endTime - p.startTime) / 1e5) / 10,
    busy: Math.round((busy / Math.max(1, total)) * 1000) / 1000,
    categories: [...byCat.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, share: share(us), ms: Math.round(us / 1000) })),
    top: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ fn: e.fn, where: e.where, ms: Math.round(e.us / 1000), share: share(e.us) })),
  };
}

/** Every profile in `dir` (one per broker process), summarized, and printed as text beside them. */
export function summarizeProfiles(dir: string): ProfileSummary[] {
  if (!fs.existsSync(dir)) return [];
  const summaries = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarizeProfile(path.join(dir, f)))
    // The primary serves no request: its profile is nearly all idle; keep the workers'.
    .filter((s) => s.busy > 0.1);
  const text = summaries.map(formatProfile).join('\n\n');
  fs.writeFileSync(path.join(dir, 'summary.txt'), `${text}\n`);
  return summaries;
}

export function formatProfile(s: ProfileSummary): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  return [
    `${s.file}: ${s.seconds} s profiled, event loop busy ${pct(s.busy)}`,
    ...s.categories.slice(0, 16).map((c) => `  ${pct(c.share).padStart(6)}  ${c.category}`),
    '  top functions (self time):',
    ...s.top.map((t) => `  ${pct(t.share).padStart(6)}  ${t.fn}  ${t.where}`),
  ].join('\n');
}

if (require.main === module) {
  for (const dir of process.argv.slice(2))
    for (const s of summarizeProfiles(dir)) console.log(formatProfile(s));
}
