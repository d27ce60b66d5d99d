import { z } from 'zod';
import { audienceField, scopeName, spiffeIdField } from '../tasks/task.schema';

export const offerDelegationSchema = z.strictObject({
  to: spiffeIdField,
  scopes: z.array(scopeName).min(1).max(20),
  ttl: z.union([z.number().int().min(1).max(86400), z.string().max(16)]).optional(),
  budget: z.number().int().min(0).max(100_000_000).default(0),
  /** Actions reserved from the parent's pool for the child; absent: the child shares its parent's. */
  actions: z.number().int().min(0).max(100_000_000).optional(),
  may_redelegate: z.boolean().default(false),
});
export type OfferDelegationInput = z.infer<typeof offerDelegationSchema>;

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const oneOrMore = z.union([audienceField, z.array(audienceField).min(1).max(10)]);

/** RFC 8693 §2.1, form-encoded. Unknown parameters are ignored, as RFC 6749 §3.2 asks. */
export const tokenExchangeSchema = z.object({
  grant_type: z.string().max(200),
  subject_token: z.string().min(1).max(16384).optional(),
  subject_token_type: z.string().max(200).optional(),
  actor_token: z.string().min(1).max(16384).optional(),
  actor_token_type: z.string().max(200).optional(),
  scope: z
    .string()
    .regex(/^[A-Za-z0-9_.:/ -]{0,2000}$/, 'space-separated scope names')
    .optional(),
  /** RFC 8693 §2.1 and RFC 8707 §2: either may be repeated (a form repeats the parameter). */
  audience: oneOrMore.optional(),
  resource: oneOrMore.optional(),
  requested_token_type: z.string().max(200).optional(),
});
export type TokenExchangeInput = z.infer<typeof tokenExchangeSchema>;
