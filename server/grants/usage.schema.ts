import { z } from 'zod';
import { safeText } from '../tasks/task.schema';

/** At most this many calls per report: a resource server batches, and a batch stays small. */
export const MAX_CALLS_PER_REPORT = 1000;

/** `POST /v1/grants/:id/usage`: the tool calls a resource server made with the grant's token. */
export const usageReportSchema = z.strictObject({
  /** Chosen by the reporter (a UUID): sending the same report again counts it once. */
  report_id: z.uuid().optional(),
  calls: z
    .array(
      z.strictObject({
        /** Units of work this call was (default 1), times the grant's action cost. */
        cost: z.number().int().min(1).max(1_000_000),
        /** When the call was made (RFC 3339). */
        at: z.iso.datetime({ offset: true }),
        tool: safeText(1, 200).optional(),
      }),
    )
    .min(1)
    .max(MAX_CALLS_PER_REPORT),
});
export type UsageReportInput = z.infer<typeof usageReportSchema>;
