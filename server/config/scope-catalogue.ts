import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config.errors';

const SCOPE_NAME = /^[a-z][a-z0-9_-]*(:[A-Za-z0-9_./-]+)+$/;
const VAULT_POLICY = /^[A-Za-z0-9_-]{1,128}$/;
/** An audience (RFC 8707 resource name or logical name): printable, no spaces or control characters. */
export const AUDIENCE = /^[\x21-\x7E]{1,256}$/;

const vaultSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('dynamic'),
    path: z.string().regex(/^[a-z0-9_-]+(\/[A-Za-z0-9_.-]+)+$/),
    /**
     * The PostgreSQL database target (GRANTLINE_DB_TARGETS) where the login this secret opens lives: the
     * broker then locks it out itself on revocation and proves it dead, never resting on Vault alone.
     */
    database_target: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/)
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('kv'),
    path: z.string().regex(/^[a-z0-9_-]+\/data(\/[A-Za-z0-9_.-]+)+$/),
  }),
  z.strictObject({ kind: z.literal('token'), policies: z.array(z.string().regex(VAULT_POLICY)).min(1) }),
]);

const scopeSpec = z.strictObject({
  description: z.string().max(500).optional(),
  cost: z.number().int().min(0).max(1_000_000),
  /** What one tool call with a token carrying this scope counts against `max_actions` (default 1). */
  action_cost: z.number().int().min(0).max(1_000_000).default(1),
  sensitivity: z.enum(['low', 'medium', 'high']),
  privileged: z.boolean().default(false),
  vault: vaultSpec,
  /** Vault policies the grant token gets for this scope. */
  policies: z.array(z.string().regex(VAULT_POLICY)).default([]),
  /** Where tokens carrying this scope are used (their `aud`): a task's default audiences. */
  audiences: z
    .array(z.string().regex(AUDIENCE, 'printable ASCII without spaces, 1-256 characters'))
    .max(20)
    .default([]),
  /** Non-secret facts returned beside the secret (where the credential works). */
  connection: z
    .record(z.string().regex(/^[a-z_]{1,32}$/), z.union([z.string().max(500), z.number()]))
    .optional(),
});

export type ScopeSpec = z.infer<typeof scopeSpec>;
export type ScopeCatalogue = ReadonlyMap<string, ScopeSpec>;

/** Reads and validates `config/scopes.json`; a bad entry stops start-up naming the scope and field. */
export function loadScopeCatalogue(configDir: string): ScopeCatalogue {
  const file = path.join(configDir, 'scopes.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'not valid JSON';
    throw new ConfigError([{ key: 'config/scopes.json', problem }]);
  }
  const parsed = z.record(z.string(), scopeSpec).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ key: `config/scopes.json:${i.path.join('.')}`, problem: i.message })),
    );
  }
  // The broker keeps task and grant token values under secret/data/grantline/ (vault/token-custody.ts):
  // a scope must never hand out a path there.
  const custody = Object.entries(parsed.data)
    .filter(([, spec]) => spec.vault.kind === 'kv' && spec.vault.path.startsWith('secret/data/grantline/'))
    .map(([name]) => ({
      key: `config/scopes.json:${name}.vault.path`,
      problem: "under the broker's own custody path",
    }));
  if (custody.length > 0) throw new ConfigError(custody);
  const bad = Object.keys(parsed.data).filter((name) => !SCOPE_NAME.test(name) || name.length > 128);
  if (bad.length > 0) {
    throw new ConfigError(
      bad.map((name) => ({ key: `config/scopes.json:${name}`, problem: 'not a valid scope name' })),
    );
  }
  return new Map(Object.entries(parsed.data).map(([name, spec]) => [name, Object.freeze(spec)]));
}

/** The Vault policies a token for these scopes needs: the grant policies plus any scope-token policies. */
export function vaultPoliciesFor(catalogue: ScopeCatalogue, scopes: readonly string[]): string[] {
  const policies = new Set<string>();
  for (const name of scopes) {
    const spec = catalogue.get(name);
    if (!spec) continue;
    for (const p of spec.policies) policies.add(p);
    if (spec.vault.kind === 'token') for (const p of spec.vault.policies) policies.add(p);
  }
  return [...policies].sort();
}

/** The audiences the given scopes name in the catalogue, sorted, without duplicates. */
export function audiencesOfScopes(catalogue: ScopeCatalogue, scopes: readonly string[]): string[] {
  return [...new Set(scopes.flatMap((name) => catalogue.get(name)?.audiences ?? []))].sort();
}

/** Fills `{{dev_database.host}}`-style placeholders in connection facts (used by the dev setup). */
export function resolveConnectionFacts(
  facts: Record<string, string | number> | undefined,
  values: Record<string, string | number>,
): Record<string, string | number> | undefined {
  if (!facts) return undefined;
  return Object.fromEntries(
    Object.entries(facts).map(([k, v]) => {
      if (typeof v !== 'string') return [k, v];
      const m = /^\{\{([a-z_.]+)\}\}$/.exec(v);
      if (!m) return [k, v.replace(/\{\{([a-z_.]+)\}\}/g, (_, key: string) => String(values[key] ?? ''))];
      const value = values[m[1]!];
      return [k, value ?? v];
    }),
  );
}
