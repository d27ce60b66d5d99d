import { z } from 'zod';
import { looksSecret } from '../audit/audit-event.guard';
import { AUDIENCE } from '../config/scope-catalogue';
import { isSpiffeId } from '../identity/spiffe-id';
import { parseDurationSeconds } from '../shared/duration';
import { isDelegatePattern } from './task-targets';

export const MAX_TASK_TTL_SECONDS = 7 * 24 * 3600;

/** Text PostgreSQL can store and the audit log accepts: no NUL, no lone surrogate, nothing token-shaped. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const isSafeText = (v: string): boolean =>
  !v.includes('\u0000') && !LONE_SURROGATE.test(v) && !looksSecret('', v);

/** Free text from callers (purposes, reasons, audiences, tools …), refused with a 400 before anything happens. */
export const safeText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine(isSafeText, 'must be plain text (no NUL, no unpaired surrogate, nothing shaped like a token)');

export const spiffeIdField = z
  .string()
  .max(2048)
  .refine((v) => isSpiffeId(v, { requirePath: true }), 'not a valid SPIFFE ID of a workload');

/** An `aud` value (RFC 8707 resource or logical name): printable ASCII, no spaces. */
export const audienceField = safeText(1, 256).regex(AUDIENCE, 'printable ASCII without spaces');

/** A delegate: an exact workload SPIFFE ID, or `spiffe://<trust domain>/<path>/*` (see task-targets.ts). */
export const delegateField = z
  .string()
  .max(2048)
  .refine(isDelegatePattern, 'a workload SPIFFE ID, or a workload path followed by /*');

export const scopeName = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'a scope name');

/** A duration as `"5m"`, `"90s"`, `"1h"` or a number of seconds, within [min, max]. */
export const ttlField = (min: number, max: number) =>
  z.union([z.string().max(32), z.number()]).transform((v, ctx) => {
    const seconds = parseDurationSeconds(v);
    if (seconds === undefined || seconds < min || seconds > max) {
      ctx.addIssue({ code: 'custom', message: `a duration between ${min}s and ${max}s` });
      return z.NEVER;
    }
    return seconds;
  });

const contextValue = z.union([safeText(0, 500), z.number(), z.boolean()]);

export const taskContextSchema = z
  .object({
    task_type: safeText(1, 100).default('general'),
    data_sensitivity: z.enum(['low', 'medium', 'high']).default('medium'),
    risk_score: z.number().int().min(0).max(100).default(0),
  })
  .catchall(contextValue)
  .refine((c) => Object.keys(c).length <= 24, 'at most 24 context keys')
  // The context is recorded in the audit log, which never holds a secret: refuse secret-like entries.
  .refine(
    (c) => !Object.entries(c).some(([k, v]) => looksSecret(k, v)),
    'context must not carry secrets (keys like token or password)',
  );

export const openTaskSchema = z.strictObject({
  purpose: safeText(1, 500),
  agents: z.array(spiffeIdField).min(1).max(100),
  scopes: z.array(scopeName).min(1).max(50),
  /** The audiences its tokens may carry; default: the audiences its scopes name in the catalogue. */
  audiences: z.array(audienceField).min(1).max(20).optional(),
  /** Who besides `agents` its grants may be delegated to. */
  delegates: z.array(delegateField).max(50).default([]),
  ttl: ttlField(10, MAX_TASK_TTL_SECONDS).default(3600),
  limits: z
    .strictObject({
      max_grants: z.number().int().min(1).max(1_000_000).default(100),
      max_active: z.number().int().min(1).max(100_000).default(20),
      // A chain of 32 holders is what an access token's nested `act` claim may carry (MAX_ACT_DEPTH).
      max_depth: z.number().int().min(0).max(31).default(3),
      max_fanout: z.number().int().min(0).max(1000).default(5),
      budget: z.number().int().min(0).max(100_000_000).default(100),
      /** Tool calls (times their action cost) all its grants together may make; absent: no cap. */
      max_actions: z.number().int().min(0).max(1_000_000_000).optional(),
    })
    .default({ max_grants: 100, max_active: 20, max_depth: 3, max_fanout: 5, budget: 100 }),
  context: taskContextSchema.default({ task_type: 'general', data_sensitivity: 'medium', risk_score: 0 }),
});
export type OpenTaskInput = z.infer<typeof openTaskSchema>;

export const approvalSchema = z.strictObject({
  scope: scopeName,
  approver: safeText(1, 200),
  ttl: ttlField(10, 7 * 24 * 3600).default(900),
  note: safeText(0, 1000).optional(),
  single_use: z.boolean().default(false),
  args_digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')
    .optional(),
});
export type ApprovalInput = z.infer<typeof approvalSchema>;

export const closeTaskSchema = z.strictObject({
  reason: safeText(1, 500).default('closed by orchestrator'),
});

export const listTasksSchema = z.strictObject({
  status: z.enum(['open', 'closing', 'closed', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
