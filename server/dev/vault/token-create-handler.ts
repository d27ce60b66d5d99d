import { ok, type Reply } from './envelope';
import type { PolicyStore } from './policy-store';
import { newTokenId } from './random-ids';
import { callerOf, type RequestContext } from './route-types';
import type { TokenEntry, TokenStore } from './token-store';
import { tokenAuth } from './token-views';
import { invalidRequest } from './vault-error';

export const TOKEN_CREATE_FIELDS = [
  'id',
  'policies',
  'meta',
  'no_parent',
  'no_default_policy',
  'renewable',
  'ttl',
  'explicit_max_ttl',
  'display_name',
  'num_uses',
  'period',
  'type',
  'entity_alias',
  'lease',
] as const;

/** Vault's `policyutil.SanitizePolicies`: trimmed, lower-cased, unique, sorted; `root` stands alone. */
export function sanitizePolicies(policies: string[], addDefault: boolean): string[] {
  const set = new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

/** Child policies must be a subset of the parent's unless the caller is root or has sudo (spec §2.1). */
function resolvePolicies(ctx: RequestContext, parent: TokenEntry): string[] {
  const addDefault = ctx.fields.bool('no_default_policy') !== true;
  const requested = ctx.fields.stringList('policies');
  if (!requested || requested.length === 0) {
    return sanitizePolicies(
      parent.policies.filter((p) => addDefault || p !== 'default'),
      addDefault,
    );
  }
  const wanted = sanitizePolicies(requested, false);
  const parentSet = new Set(parent.policies);
  if (!ctx.privileged && wanted.some((p) => p !== 'default' && !parentSet.has(p))) {
    throw invalidRequest('child policies must be subset of parent');
  }
  return sanitizePolicies(wanted, addDefault);
}

/** `token-<name>` with everything outside [a-zA-Z0-9-] replaced, as Vault stores display names. */
export function displayNameFor(name: string | undefined): string {
  if (!name) return 'token';
  return `token-${name}`.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-$/, '');
}

function checkCreateRules(ctx: RequestContext, parent: TokenEntry, orphanEndpoint: boolean): void {
  const f = ctx.fields;
  if (f.has('period') && !ctx.privileged)
    throw invalidRequest('root or sudo privileges required to create periodic token');
  if (f.has('period')) throw invalidRequest('periodic tokens are not supported by the dev vault');
  if (f.has('type') && f.string('type') !== 'service')
    throw invalidRequest('the dev vault issues service tokens only');
  if (f.bool('no_parent') && !orphanEndpoint && !ctx.privileged) {
    throw invalidRequest('root or sudo privileges required to create orphan token');
  }
  if (f.has('id') && !ctx.privileged)
    throw invalidRequest('root or sudo privileges required to specify token id');
  if (f.string('id')?.includes('.')) throw invalidRequest('token IDs can not contain a period');
  if ((f.int('num_uses') ?? 0) < 0) throw invalidRequest('number of uses cannot be negative');
  if (parent.numUses > 0) throw invalidRequest('restricted use token cannot generate child tokens');
}

function missingPolicyWarnings(policies: string[], store: PolicyStore): string[] {
  return policies.filter((p) => !store.exists(p)).map((p) => `Policy "${p}" does not exist`);
}

/** `auth/token/create` and `create-orphan` (spec §2.1). */
export function createTokenHandler(
  deps: { tokens: TokenStore; policies: PolicyStore },
  orphanEndpoint: boolean,
) {
  return (ctx: RequestContext): Reply => {
    const parent = callerOf(ctx);
    checkCreateRules(ctx, parent, orphanEndpoint);
    const f = ctx.fields;
    const id = f.string('id') || newTokenId();
    if (deps.tokens.lookup(id)) throw invalidRequest('cannot use a token ID that is already in use');
    const policies = resolvePolicies(ctx, parent);
    const orphan = orphanEndpoint || f.bool('no_parent') === true;
    const { entry, warnings } = deps.tokens.create({
      id,
      policies,
      ttl: f.duration('ttl') ?? f.duration('lease') ?? 0,
      explicitMaxTtl: f.duration('explicit_max_ttl') ?? 0,
      numUses: f.int('num_uses') ?? 0,
      renewable: f.bool('renewable') ?? true,
      meta: f.stringMap('meta') ?? null,
      displayName: displayNameFor(f.string('display_name')),
      path: orphanEndpoint ? 'auth/token/create-orphan' : 'auth/token/create',
      parent: orphan ? null : parent,
    });
    const ttl = entry.creationTtl;
    return ok({
      data: null,
      auth: tokenAuth(entry, entry.id, ttl),
      warnings: [...missingPolicyWarnings(policies, deps.policies), ...warnings],
    });
  };
}
