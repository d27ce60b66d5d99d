import { z } from 'zod';
import { looksSecret } from '../audit/audit-event.guard';
import { argsDigestField, argsPreviewField } from '../tasks';
import { safeText, scopeName } from '../tasks/task.schema';

export const grantContextSchema = z
  .strictObject({
    tool: safeText(1, 200).optional(),
    target: safeText(1, 500).optional(),
    intent: safeText(1, 1000).optional(),
    /** Digest of the exact arguments a privileged call will use; matched against the approval's. */
    args_digest: argsDigestField.optional(),
    /** A readable preview of those arguments, shown to the approver of an approval request. */
    args_preview: argsPreviewField.optional(),
  })
  .refine((c) => !Object.entries(c).some(([k, v]) => looksSecret(k, v)), 'context must not carry secrets');

export const requestGrantSchema = z
  .strictObject({
    scopes: z.array(scopeName).min(1).max(20),
    audience: safeText(1, 256),
    /** Seconds, or a duration string; capped by configuration and the task's remaining life. */
    ttl: z.union([z.number().int().min(1).max(86400), z.string().max(16)]).optional(),
    context: grantContextSchema.default({}),
    /** `"request"`: when a privileged scope has no live approval, ask a human and answer 202. */
    approval: z.literal('request').optional(),
    /** The approved request this grant rests on (the agent's second call, after waiting). */
    approval_request_id: z.string().uuid().optional(),
  })
  // An approval asked for a privileged call covers its exact arguments (DESIGN "Rules that must hold").
  .refine((b) => b.approval !== 'request' || b.context.args_digest !== undefined, {
    message: 'approval "request" needs context.args_digest: an approval covers exact arguments',
    path: ['context', 'args_digest'],
  });
export type RequestGrantInput = z.infer<typeof requestGrantSchema>;
export type GrantContextInput = z.infer<typeof grantContextSchema>;

export const revokeGrantSchema = z.strictObject({
  reason: safeText(1, 500).default('revoked by request'),
});
