import { z } from 'zod';
import { VaultBadResponse, type VaultCallContext } from './vault.errors';
import type { DynamicSecret, LeaseInfo, MintedToken, TokenInfo, VaultHealth } from './vault.types';

// Vault envelopes (specs/vault-api.md §1.1). Unknown fields are ignored (zod strips them).
const stringList = z.array(z.string()).nullish();

const authSchema = z.object({
  auth: z.object({
    client_token: z.string().min(1),
    accessor: z.string().min(1),
    policies: stringList,
    token_policies: stringList,
    lease_duration: z.number().int().nonnegative(),
    renewable: z.boolean(),
    orphan: z.boolean().optional(),
  }),
});

const secretSchema = z.object({
  lease_id: z.string().min(1, 'a dynamic secret must carry a lease'),
  lease_duration: z.number().int().nonnegative(),
  renewable: z.boolean(),
  data: z.record(z.string(), z.unknown()),
});

const kvSchema = z.object({ data: z.object({ data: z.record(z.string(), z.unknown()) }) });

const leaseSchema = z.object({
  data: z.object({
    id: z.string().min(1),
    expire_time: z.string().nullish(),
    ttl: z.number(),
    renewable: z.boolean(),
    revoke_error: z.string().nullish(),
  }),
});

const tokenInfoSchema = z.object({
  data: z.object({
    accessor: z.string().min(1),
    policies: stringList,
    ttl: z.number(),
    expire_time: z.string().nullish(),
    orphan: z.boolean(),
    meta: z.record(z.string(), z.string()).nullish(),
  }),
});

const healthSchema = z.object({
  initialized: z.boolean(),
  sealed: z.boolean(),
  standby: z.boolean(),
  version: z.string(),
});

/** Parses or throws VaultBadResponse naming the offending fields (never their values). */
function parse<T>(schema: z.ZodType<T>, body: unknown, ctx: VaultCallContext): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
  throw new VaultBadResponse({ ctx, problem: `bad or missing ${fields}` });
}

export function toMintedToken(body: unknown, ctx: VaultCallContext, orphanDefault: boolean): MintedToken {
  const { auth } = parse(authSchema, body, ctx);
  return {
    clientToken: auth.client_token,
    accessor: auth.accessor,
    policies: auth.policies ?? auth.token_policies ?? [],
    leaseDuration: auth.lease_duration,
    renewable: auth.renewable,
    orphan: auth.orphan ?? orphanDefault,
  };
}

export function toDynamicSecret(body: unknown, ctx: VaultCallContext): DynamicSecret {
  const s = parse(secretSchema, body, ctx);
  return { leaseId: s.lease_id, leaseDuration: s.lease_duration, renewable: s.renewable, data: s.data };
}

export function toKvData(body: unknown, ctx: VaultCallContext): Record<string, unknown> {
  return parse(kvSchema, body, ctx).data.data;
}

export function toLeaseInfo(body: unknown, ctx: VaultCallContext): LeaseInfo {
  const { data } = parse(leaseSchema, body, ctx);
  return {
    id: data.id,
    expireTime: data.expire_time || null,
    ttl: data.ttl,
    renewable: data.renewable,
    ...(data.revoke_error ? { revokeError: data.revoke_error } : {}),
  };
}

export function toTokenInfo(body: unknown, ctx: VaultCallContext): TokenInfo {
  const { data } = parse(tokenInfoSchema, body, ctx);
  return {
    accessor: data.accessor,
    policies: data.policies ?? [],
    ttl: data.ttl,
    expireTime: data.expire_time || null,
    orphan: data.orphan,
    meta: data.meta ?? null,
  };
}

export function toHealth(body: unknown, ctx: VaultCallContext): VaultHealth {
  const h = parse(healthSchema, body, ctx);
  return { initialized: h.initialized, sealed: h.sealed, standby: h.standby, version: h.version };
}
