import { type JWTVerifyGetKey, SignJWT } from 'jose';
import { z } from 'zod';
import { type Clock, nowSeconds } from '../shared/clock';
import {
  expiryClaim,
  fromSeconds,
  numericDate,
  requireText,
  scopeClaim,
  scopeList,
  text,
} from './claim-rules';
import { verifyOwnJwt } from './jwt-verify';
import { SIGNING_ALG } from './key-material';
import type { SigningKeys } from './signing-keys';
import { InvalidDelegationToken, InvalidTokenClaims, type TokenFailureReason } from './token.errors';

/**
 * Distinct from `at+jwt` (RFC 8725 §3.11 explicit typing) so a delegation offer can never be
 * presented as an access token, nor an access token redeemed as an offer.
 */
export const DELEGATION_TOKEN_TYP = 'delegation+jwt';

export interface TokenContext {
  keys: SigningKeys;
  keySet: JWTVerifyGetKey;
  issuer: string;
  clock: Clock;
}

export interface DelegationClaims {
  offerId: string;
  parentGrantId: string;
  taskId: string;
  /** The delegator's SPIFFE ID. */
  from: string;
  /** The only SPIFFE ID that may redeem the offer (RFC 8693 §4.4 `may_act`). */
  to: string;
  scopes: string[];
  expiresAt: Date;
}

export interface VerifiedDelegation {
  offerId: string;
  parentGrantId: string;
  taskId: string;
  from: string;
  to: string;
  scopes: string[];
  issuer: string;
  issuedAt: Date;
  expiresAt: Date;
  kid: string;
}

const REQUIRED = ['sub', 'aud', 'exp', 'iat', 'jti', 'scope', 'task_id', 'parent_grant', 'may_act'];

const delegationPayload = z.object({
  iss: text,
  sub: text,
  aud: text,
  jti: text,
  iat: numericDate,
  exp: numericDate,
  scope: scopeList,
  task_id: text,
  parent_grant: text,
  may_act: z.object({ sub: text }),
});

/**
 * Mints a delegation offer: addressed to the broker itself (`aud` = issuer), bound to the redeemer by
 * `may_act`. Single use is enforced by the grants service, which records the offer id (`jti`).
 */
export async function mintDelegationToken(ctx: TokenContext, c: DelegationClaims): Promise<string> {
  const exp = expiryClaim(c.expiresAt, ctx.clock);
  if (c.from === c.to) throw new InvalidTokenClaims('a delegation must name another workload');
  const payload = {
    scope: scopeClaim(c.scopes),
    task_id: requireText('taskId', c.taskId),
    parent_grant: requireText('parentGrantId', c.parentGrantId),
    may_act: { sub: requireText('to', c.to) },
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ctx.keys.current.kid, typ: DELEGATION_TOKEN_TYP })
    .setIssuer(ctx.issuer)
    .setSubject(requireText('from', c.from))
    .setAudience(ctx.issuer)
    .setJti(requireText('offerId', c.offerId))
    .setIssuedAt(nowSeconds(ctx.clock))
    .setExpirationTime(exp)
    .sign(ctx.keys.current.privateKey);
}

/**
 * Verifies a delegation token presented as a token-exchange `subject_token`. Throws
 * InvalidDelegationToken (400 `invalid_request`, RFC 8693 §2.2.2) with a stable `reason`.
 * It does not check that the redeemer is `to`, nor that the offer is unused: the caller does both.
 */
export async function verifyDelegationToken(ctx: TokenContext, token: string): Promise<VerifiedDelegation> {
  const fail = (reason: TokenFailureReason, message?: string, cause?: unknown) =>
    new InvalidDelegationToken(reason, message, cause);
  const { payload, kid } = await verifyOwnJwt(token, ctx, {
    typ: DELEGATION_TOKEN_TYP,
    audience: ctx.issuer,
    requiredClaims: REQUIRED,
    fail,
  });
  const parsed = delegationPayload.safeParse(payload);
  if (!parsed.success) throw fail('invalid_claim', 'the delegation token claims are malformed');
  const claims = parsed.data;
  return {
    offerId: claims.jti,
    parentGrantId: claims.parent_grant,
    taskId: claims.task_id,
    from: claims.sub,
    to: claims.may_act.sub,
    scopes: claims.scope,
    issuer: claims.iss,
    issuedAt: fromSeconds(claims.iat),
    expiresAt: fromSeconds(claims.exp),
    kid,
  };
}
