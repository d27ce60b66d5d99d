import { invalidRequest } from './vault-error';

export type Capability = 'create' | 'read' | 'update' | 'delete' | 'list' | 'sudo' | 'deny' | 'patch';
export type Operation = 'create' | 'read' | 'update' | 'delete' | 'list';

const CAPABILITIES: readonly string[] = [
  'create',
  'read',
  'update',
  'delete',
  'list',
  'sudo',
  'deny',
  'patch',
];

/** A parsed policy: path pattern → capabilities. */
export type PolicyRules = Map<string, Set<Capability>>;

function addRule(rules: PolicyRules, path: string, caps: unknown): void {
  if (!Array.isArray(caps))
    throw invalidRequest(`failed to parse policy: path "${path}": capabilities must be a list`);
  const set = rules.get(path) ?? new Set<Capability>();
  for (const c of caps) {
    if (typeof c !== 'string' || !CAPABILITIES.includes(c.toLowerCase())) {
      throw invalidRequest(`failed to parse policy: path "${path}": invalid capability ${JSON.stringify(c)}`);
    }
    set.add(c.toLowerCase() as Capability);
  }
  rules.set(path.replace(/^\//, ''), set);
}

function parseJsonPolicy(doc: unknown): PolicyRules {
  const paths = (doc as { path?: unknown } | null)?.path;
  if (!paths || typeof paths !== 'object' || Array.isArray(paths)) {
    throw invalidRequest('failed to parse policy: expected {"path": {"<path>": {"capabilities": [...]}}}');
  }
  const rules: PolicyRules = new Map();
  for (const [path, rule] of Object.entries(paths))
    addRule(rules, path, (rule as { capabilities?: unknown })?.capabilities);
  return rules;
}

const HCL_BLOCK = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;

/** The HCL form Vault's CLI docs use, limited to `path "p" { capabilities = [...] }` blocks. */
function parseHclPolicy(text: string): PolicyRules {
  const rules: PolicyRules = new Map();
  const withoutComments = text.replace(/(^|\n)\s*(#|\/\/)[^\n]*/g, '\n');
  const leftover = withoutComments.replace(HCL_BLOCK, (_m, path: string, list: string) => {
    const caps = [...list.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    addRule(rules, path, caps);
    return '';
  });
  if (leftover.trim() !== '') throw invalidRequest('failed to parse policy: unsupported policy syntax');
  return rules;
}

/**
 * Vault takes the policy document as a string in HCL or JSON; the dev server also takes the JSON form as
 * an object.
 */
export function parsePolicy(doc: unknown): PolicyRules {
  if (typeof doc === 'object' && doc !== null) return parseJsonPolicy(doc);
  if (typeof doc !== 'string' || doc.trim() === '')
    throw invalidRequest("'policy' parameter not supplied or empty");
  const text = doc.trim();
  if (!text.startsWith('{')) return parseHclPolicy(text);
  try {
    return parseJsonPolicy(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError) throw invalidRequest(`failed to parse policy: ${err.message}`);
    throw err;
  }
}

const isGlob = (p: string): boolean => p.endsWith('*') || p.includes('+');

/** `*` only as the last character (prefix glob); `+` stands for exactly one path segment. */
export function patternMatches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  if (!body.includes('+')) return prefix ? path.startsWith(body) : path === body;
  const pSegs = body.split('/');
  const segs = path.split('/');
  if (prefix ? segs.length < pSegs.length : segs.length !== pSegs.length) return false;
  for (let i = 0; i < pSegs.length; i += 1) {
    const p = pSegs[i]!;
    const s = segs[i]!;
    const last = i === pSegs.length - 1;
    if (p === '+') continue;
    if (last && prefix ? !s.startsWith(p) : s !== p) return false;
  }
  return true;
}

function firstWildcard(p: string): number {
  const idx = [p.indexOf('+'), p.indexOf('*')].filter((i) => i >= 0);
  return idx.length ? Math.min(...idx) : p.length;
}

/**
 * Vault's priority rules for non-exact paths (docs `concepts/policies`, "Priority matching"): later first
 * wildcard wins, then not-ending-in-`*`, then fewer `+`, then longer, then lexicographically larger.
 * Returns a negative number when `a` has the higher priority.
 */
export function comparePriority(a: string, b: string): number {
  const fa = firstWildcard(a);
  const fb = firstWildcard(b);
  if (fa !== fb) return fb - fa;
  const ga = a.endsWith('*');
  const gb = b.endsWith('*');
  if (ga !== gb) return ga ? 1 : -1;
  const pa = a.split('+').length;
  const pb = b.split('+').length;
  if (pa !== pb) return pa - pb;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? 1 : a > b ? -1 : 0;
}

export interface Acl {
  /** Capabilities of the one rule that governs `path` (empty set: no rule, so deny). */
  capabilities(path: string): Set<Capability>;
  allows(path: string, op: Operation): boolean;
}

/** Merges policies as Vault does (union per path; `deny` on a path wins over everything on it). */
export function compileAcl(policies: PolicyRules[]): Acl {
  const merged: PolicyRules = new Map();
  for (const rules of policies) {
    for (const [path, caps] of rules) merged.set(path, new Set([...(merged.get(path) ?? []), ...caps]));
  }
  for (const [path, caps] of merged) if (caps.has('deny')) merged.set(path, new Set(['deny']));
  const globs = [...merged.keys()].filter(isGlob).sort(comparePriority);

  const capabilities = (path: string): Set<Capability> => {
    // A list request carries a trailing slash; an exact rule on the path without it also governs it.
    const candidates = path.endsWith('/') ? [path, path.slice(0, -1)] : [path];
    const exactKey = candidates.find((k) => !isGlob(k) && merged.has(k));
    if (exactKey !== undefined) return merged.get(exactKey)!;
    const best = globs.find((g) => patternMatches(g, path));
    return best ? merged.get(best)! : new Set();
  };
  return {
    capabilities,
    allows(path, op) {
      const caps = capabilities(path);
      return !caps.has('deny') && caps.has(op);
    },
  };
}
