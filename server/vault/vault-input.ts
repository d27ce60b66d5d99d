import { InvalidRequest } from '../shared/errors';
import type { CreateChildTokenInput, CreateOrphanTokenInput } from './vault.types';

const NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_TTL_SECONDS = 768 * 3600; // Vault's default system max TTL (specs/vault-api.md §3.3)

const positiveSeconds = (name: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > MAX_TTL_SECONDS) {
    throw new InvalidRequest(`${name} must be a whole number of seconds in 1..${MAX_TTL_SECONDS}`);
  }
  return v;
};

/**
 * Vault gives a token created with no `policies` all of its creator's policies (specs/vault-api.md §2.1),
 * which for the broker token could be `root`. So an explicit, non-empty list is required and `root` is
 * never handed out.
 */
const checkPolicies = (policies: unknown): string[] => {
  if (!Array.isArray(policies) || policies.length === 0) {
    throw new InvalidRequest('a Vault token needs an explicit, non-empty list of policies');
  }
  for (const p of policies) {
    if (typeof p !== 'string' || !NAME_RE.test(p)) throw new InvalidRequest('invalid Vault policy name');
    if (p === 'root') throw new InvalidRequest('the root policy is never granted');
  }
  return [...policies];
};

const checkMeta = (meta: unknown): Record<string, string> | undefined => {
  if (meta === undefined) return undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new InvalidRequest('Vault token meta must be a string map');
  }
  for (const [k, v] of Object.entries(meta)) {
    if (!NAME_RE.test(k) || typeof v !== 'string' || v.length > 512) {
      throw new InvalidRequest('Vault token meta must be a string map of short values');
    }
  }
  return { ...(meta as Record<string, string>) };
};

const checkDisplayName = (name: unknown): string => {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new InvalidRequest('Vault token display name must match [A-Za-z0-9_.-]{1,128}');
  }
  return name;
};

/** Body for `auth/token/create-orphan`. TTLs go as strings ("60s"): Vault's duration form. */
export function orphanTokenBody(o: CreateOrphanTokenInput): Record<string, unknown> {
  const meta = checkMeta(o.meta);
  return {
    policies: checkPolicies(o.policies),
    ttl: `${positiveSeconds('ttlSeconds', o.ttlSeconds)}s`,
    display_name: checkDisplayName(o.displayName),
    renewable: o.renewable ?? true,
    ...(meta ? { meta } : {}),
  };
}

/** Body for `auth/token/create` sent AS the parent token, so the new token is the parent's child. */
export function childTokenBody(o: CreateChildTokenInput): Record<string, unknown> {
  const meta = checkMeta(o.meta);
  const maxTtl = o.explicitMaxTtlSeconds;
  return {
    policies: checkPolicies(o.policies),
    ttl: `${positiveSeconds('ttlSeconds', o.ttlSeconds)}s`,
    display_name: checkDisplayName(o.displayName),
    ...(maxTtl === undefined
      ? {}
      : { explicit_max_ttl: `${positiveSeconds('explicitMaxTtlSeconds', maxTtl)}s` }),
    ...(meta ? { meta } : {}),
  };
}

export function checkId(kind: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || /[\s\p{Cc}]/u.test(value)) {
    throw new InvalidRequest(`invalid Vault ${kind}`);
  }
  return value;
}

/** A revoke-prefix of a whole mount (or of nothing) would revoke everything in it: refuse it. */
export function checkRevokePrefix(prefix: unknown): string {
  const trimmed = typeof prefix === 'string' ? prefix.replace(/\/+$/, '') : '';
  if (trimmed.split('/').filter(Boolean).length < 2) {
    throw new InvalidRequest('a revoke prefix must name at least two path segments');
  }
  return trimmed;
}

export function checkPolicyName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name === 'root' || name === 'default') {
    throw new InvalidRequest('invalid Vault policy name');
  }
  return name;
}
