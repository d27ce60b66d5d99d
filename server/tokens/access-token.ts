import { type JWK, SignJWT } from 'jose';
import { z } from 'zod';
import { type Clock, nowSeconds } from '../shared/clock';
import { actClaimFromChain, chainFromActClaim } from './act-claim';
import {
  argsDigestClaim,
  certThumbprint,
  expiryClaim,
  fromSeconds,
  numericDate,
  requireArgsDigest,
  requireCertThumbprint,
  requireIssuer,
  requireText,
  scopeClaim,
  scopeList,
  text,
} from './claim-rules';
import {
  type DelegationClaims,
  mintDelegationToken,
  type TokenContext,
  type VerifiedDelegation,
  verifyDelegationToken,
} from './delegation-token';
import { createVerificationKeySet, verifyOwnJwt } from './jwt-verify';
import { SIGNING_ALG } from './key-material';
import type { SigningKeys } from './signing-keys';
import { InvalidAccessToken, InvalidTokenClaims, type TokenFailureReason } from './token.errors';

export { type ActClaim, actClaimFromChain, chainFromActClaim, MAX_ACT_DEPTH } from './act-claim';
export { DELEGATION_TOKEN_TYP, type DelegationClaims, type VerifiedDelegation } from './delegation-token';

/** RFC 9068 §2.1 media type of JWT access tokens. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenClaims {
  grantId: string;
  taskId: string;
  /** The task's owner: `sub`. */
  subject: string;
  /** `aud`: a string when there is one, an array for several (RFC 7519 §4.1.3, RFC 8707). */
  audiences: string[];
  scopes: string[];
  /** The current holder's SPIFFE ID: `client_id` and the outermost `act.sub`. */
  holder: string;
  /** Holders from the root grant to the current one, current LAST. */
  chain: string[];
  expiresAt: Date;
  /** When the grant was issued (`iat`); defaults to now. The grant's `exp` is counted from the same instant. */
  issuedAt?: Date;
  /** RFC 8705 §3.1 binding to the holder's mTLS certificate. */
  certThumbprint?: string;
  /** `args_digest`: the exact arguments a digest-bound approval covers, for the tool to check. */
  argsDigest?: string;
}

export interface VerifiedAccessToken {
  grantId: string;
  taskId: string;
  issuer: string;
  subject: string;
  /** Every `aud` value, in the token's order. */
  audiences: string[];
  scopes: string[];
  clientId: string;
  /** Decoded `act`, root holder first, current holder (= clientId) last. */
  chain: string[];
  issuedAt: Date;
  expiresAt: Date;
  certThumbprint?: string;
  argsDigest?: string;
  kid: string;
}

export interface TokenIssuer {
  readonly issuer: string;
  mintAccessToken(c: AccessTokenClaims): Promise<string>;
  /** Throws InvalidAccessToken with a stable `reason`. Pass `audience` when acting as a resource server. */
  verifyAccessToken(token: string, opts?: { audience?: string }): Promise<VerifiedAccessToken>;
  mintDelegationToken(c: DelegationClaims): Promise<string>;
  /** Throws InvalidDelegationToken with a stable `reason`. */
  verifyDelegationToken(token: string): Promise<VerifiedDelegation>;
  jwks(): { keys: JWK[] };
}

const REQUIRED = ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'task_id', 'act'];

const accessTokenPayload = z.object({
  iss: text,
  sub: text,
  aud: z.union([text, z.array(text).min(1)]),
  jti: text,
  iat: numericDate,
  exp: numericDate,
  scope: scopeList,
  task_id: text,
  client_id: text,
  act: z.unknown(),
  cnf: z.object({ 'x5t#S256': certThumbprint }).optional(),
  args_digest: argsDigestClaim.optional(),
});

/** Builds the token issuer over the loaded signing keys. Keys are fixed for the process's life. */
export function createTokenIssuer(deps: { keys: SigningKeys; issuer: string; clock: Clock }): TokenIssuer {
  const ctx: TokenContext = {
    keys: deps.keys,
    keySet: createVerificationKeySet(deps.keys),
    issuer: requireIssuer(deps.issuer),
    clock: deps.clock,
  };
  return {
    issuer: ctx.issuer,
    mintAccessToken: (c) => mintAccessToken(ctx, c),
    verifyAccessToken: (token, opts) => verifyAccessToken(ctx, token, opts?.audience),
    mintDelegationToken: (c) => mintDelegationToken(ctx, c),
    verifyDelegationToken: (token) => verifyDelegationToken(ctx, token),
    jwks: () => deps.keys.jwks(),
  };
}

function audienceClaim(audiences: string[]): string | string[] {
  if (audiences.length === 0) throw new InvalidTokenClaims('a token needs at least one audience');
  const checked = audiences.map((a) => requireText('audience', a));
  return checked.length === 1 ? checked[0]! : checked;
}

/** Mints an RFC 9068 access token whose `act` carries the delegation chain (RFC 8693 §4.1). */
async function mintAccessToken(ctx: TokenContext, c: AccessTokenClaims): Promise<string> {
  const exp = expiryClaim(c.expiresAt, ctx.clock);
  if (c.chain.at(-1) !== c.holder) throw new InvalidTokenClaims('the chain must end with the current holder');
  const payload = {
    scope: scopeClaim(c.scopes),
    task_id: requireText('taskId', c.taskId),
    client_id: requireText('holder', c.holder),
    act: actClaimFromChain(c.chain),
    ...(c.certThumbprint === undefined
      ? {}
      : { cnf: { 'x5t#S256': requireCertThumbprint(c.certThumbprint) } }),
    ...(c.argsDigest === undefined ? {} : { args_digest: requireArgsDigest(c.argsDigest) }),
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ctx.keys.current.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(ctx.issuer)
    .setSubject(requireText('subject', c.subject))
    .setAudience(audienceClaim(c.audiences))
    .setJti(requireText('grantId', c.grantId))
    .setIssuedAt(c.issuedAt ? Math.floor(c.issuedAt.getTime() / 1000) : nowSeconds(ctx.clock))
    .setExpirationTime(exp)
    .sign(ctx.keys.current.privateKey);
}

/**
 * RFC 9068 §4 validation: `typ`, `iss`, signature by one of our keys with ES256 only, `exp` with a
 * small leeway, `aud` when given, then the shape of every claim. Grant state (revoked or not) is the
 * grants service's question, not this one's.
 */
async function verifyAccessToken(
  ctx: TokenContext,
  token: string,
  audience?: string,
): Promise<VerifiedAccessToken> {
  const fail = (reason: TokenFailureReason, message?: string, cause?: unknown) =>
    new InvalidAccessToken(reason, message, cause);
  const { payload, kid } = await verifyOwnJwt(token, ctx, {
    typ: ACCESS_TOKEN_TYP,
    ...(audience === undefined ? {} : { audience }),
    requiredClaims: REQUIRED,
    fail,
  });
  const parsed = accessTokenPayload.safeParse(payload);
  if (!parsed.success) throw fail('invalid_claim', 'the access token claims are malformed');
  const claims = parsed.data;
  const chain = chainFromActClaim(claims.act);
  // The current actor (outermost act) and client_id both name the holder; a mismatch is not ours.
  if (chain.at(-1) !== claims.client_id) throw fail('invalid_claim', 'client_id is not the current actor');
  return {
    grantId: claims.jti,
    taskId: claims.task_id,
    issuer: claims.iss,
    subject: claims.sub,
    audiences: [claims.aud].flat(),
    scopes: claims.scope,
    clientId: claims.client_id,
    chain,
    issuedAt: fromSeconds(claims.iat),
    expiresAt: fromSeconds(claims.exp),
    ...(claims.cnf ? { certThumbprint: claims.cnf['x5t#S256'] } : {}),
    ...(claims.args_digest ? { argsDigest: claims.args_digest } : {}),
    kid,
  };
}
