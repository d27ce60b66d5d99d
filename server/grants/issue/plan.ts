import type { Authorized } from '../../access/access';
import type { ApprovalRow, GrantRow, TaskRow } from '../../db/database';
import type { IssuedSecret } from './mint';

/** Everything decided about a grant before anything is reserved or minted (direct or delegated). */
export interface GrantPlan {
  grantId: string;
  task: TaskRow;
  /** The parent grant and the offer redeemed, for a delegated grant; null for a direct one. */
  delegation: { parent: GrantRow; offerId: string; budget: number; actions: number | null } | null;
  holder: string;
  /** Holders from the root grant down to this one (this holder last). */
  chain: string[];
  scopes: string[];
  /** The token's `aud` values (one audience, or the RFC 8707 resources asked for). */
  audiences: string[];
  /** The approved arguments' digest the grant is bound to (its token's `args_digest`), or null. */
  argsDigest: string | null;
  ttlSeconds: number;
  cost: number;
  mayRedelegate: boolean;
  approvals: ApprovalRow[];
  certThumbprint: string | undefined;
  /** What this hop was allowed, kept for auditors (scopes, ttl, budget, depth, …). */
  constraints: Record<string, unknown>;
  /** Policy's allow: recorded with the grant's outcome (issued, failed, or refused by a limit). */
  allowed: Authorized;
}

export interface GrantResponse {
  /** RFC 9207: the issuer that answered, for the client to compare with the one it meant to ask. */
  iss: string;
  grant_id: string;
  task_id: string;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  secrets: IssuedSecret[];
}

export const depthOf = (plan: GrantPlan): number => plan.chain.length - 1;
