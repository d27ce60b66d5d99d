import { z } from 'zod';
import { looksSecret } from '../audit/audit-event.guard';
import { argsDigestField, argsPreviewField } from '../tasks';
import { audienceField, safeText, scopeName } from '../tasks/task.schema';

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

/** At most this many RFC 8707 resources per grant: each one widens where the token is accepted. */
export const MAX_RESOURCES = 10;

export const requestGrantSchema = z
  .strictObject({
    scopes: z.array(scopeName).min(1).max(20),
    /** The one logical audience (`aud`) of the token; or ask by `resource`. */
    audience: audienceField.optional(),
    /** RFC 8707 resource indicators: absolute URIs, each becoming an `aud` value (checked in the domain). */
    resource: z.array(audienceField).min(1).max(MAX_RESOURCES).optional(),
    /** Seconds, or a duration string; capped by configuration and the task's remaining life. */
    ttl: z.union([z.number().int().min(1).max(86400), z.string().max(16)]).optional(),
    context: grantContextSchema.default({}),
    /** `"request"`: when a privileged scope has no live approval, ask a human and answer 202. */
    approval: z.literal('request').optional(),
    /** The approved request this grant rests on (the agent's second call, after waiting). */
    approval_request_id: z.string().uuid().optional(),
  })
  .refine((b) => (b.audience === undefined) !== (b.resource === undefined), {
    message: 'give either audience or resource (RFC 8707), not both and not neither',
    path: ['audience'],
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
