import { z } from 'zod';
import { looksSecret } from '../audit/audit-event.guard';
import { safeText, scopeName } from '../tasks/task.schema';

export const grantContextSchema = z
  .strictObject({
    tool: safeText(1, 200).optional(),
    target: safeText(1, 500).optional(),
    intent: safeText(1, 1000).optional(),
    /** Digest of the exact arguments a privileged call will use; matched against the approval's. */
    args_digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')
      .optional(),
  })
  .refine((c) => !Object.entries(c).some(([k, v]) => looksSecret(k, v)), 'context must not carry secrets');

export const requestGrantSchema = z.strictObject({
  scopes: z.array(scopeName).min(1).max(20),
  audience: safeText(1, 256),
  /** Seconds, or a duration string; capped by configuration and the task's remaining life. */
  ttl: z.union([z.number().int().min(1).max(86400), z.string().max(16)]).optional(),
  context: grantContextSchema.default({}),
});
export type RequestGrantInput = z.infer<typeof requestGrantSchema>;
export type GrantContextInput = z.infer<typeof grantContextSchema>;

export const revokeGrantSchema = z.strictObject({
  reason: safeText(1, 500).default('revoked by request'),
});
