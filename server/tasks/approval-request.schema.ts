import { z } from 'zod';
import { looksSecret } from '../audit/audit-event.guard';
import { parseDurationSeconds } from '../shared/duration';
import { safeText, ttlField } from './task.schema';

// `key: value`, `key=value`, `"key": value` and `--key value` shapes in a preview of arguments.
const ASSIGNED_KEYS = [
  /["']?([A-Za-z_][A-Za-z0-9_-]{0,63})["']?\s*[:=]/g,
  /--([A-Za-z][A-Za-z0-9_-]{0,63})\b/g,
];

/** Whether a preview names a secret-like argument (`password=…`, `"api_key": …`, `--token …`). */
export function previewNamesSecret(text: string): boolean {
  return ASSIGNED_KEYS.some((re) => [...text.matchAll(re)].some((m) => looksSecret(m[1] ?? '')));
}

/**
 * A readable preview of the arguments an agent will call a privileged tool with, shown to the approver
 * beside their digest. It goes to the audit log, so it is screened like any free text, and an argument
 * named like a secret is refused: the preview must show what will be done, never a credential.
 */
export const argsPreviewField = safeText(1, 2000).refine(
  (v) => !previewNamesSecret(v),
  'must not carry secret-named arguments (password, token, api_key …): leave their values out',
);

export const argsDigestField = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>');

const decisionFields = {
  decision: z.enum(['approve', 'deny']),
  reason: safeText(1, 500),
  /** How long the approval lasts once given. */
  ttl: ttlField(10, 24 * 3600).default(600),
  /** Whether the approval covers one grant only (the default for an approval asked for one call). */
  single_use: z.boolean().default(true),
};

/** A person's decision in the console: who decided is the verified session, nothing the body says. */
export const consoleDecisionSchema = z.strictObject(decisionFields);

/** An approver workload's decision: it may name the person it speaks for. */
export const workloadDecisionSchema = z.strictObject({
  ...decisionFields,
  approver: safeText(1, 200).optional(),
});
export type DecisionInput = z.infer<typeof workloadDecisionSchema>;

export const MAX_WAIT_SECONDS = 60;

export const waitQuery = z.strictObject({
  wait: z
    .string()
    .max(16)
    .transform((v, ctx) => {
      const seconds = parseDurationSeconds(v);
      if (seconds === undefined || seconds < 0 || seconds > MAX_WAIT_SECONDS) {
        ctx.addIssue({ code: 'custom', message: `a duration between 0s and ${MAX_WAIT_SECONDS}s` });
        return z.NEVER;
      }
      return seconds;
    })
    .optional(),
});

export const listApprovalRequestsQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'denied', 'expired']).optional(),
  task: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListApprovalRequestsInput = z.infer<typeof listApprovalRequestsQuery>;
