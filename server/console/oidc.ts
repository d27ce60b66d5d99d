import * as client from 'openid-client';
import type { HumanPrincipal } from '../identity';
import { InvalidRequest, Unavailable } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { displayName, type RoleMap, rolesFromClaims } from './roles';
import type { LoginTransaction } from './session';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string;
  roleClaim: string;
  roleMap: RoleMap;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Human sign-in with OpenID Connect: authorization code flow with PKCE (RFC 7636, S256), `state` and
 * `nonce` checked on return (OIDC Core §3.1.2.7, §3.1.3.7), ID token signatures verified against the
 * provider's JWKS. Discovery is lazy and retried, so the broker starts while the provider is down.
 */
export function createOidcSignIn(settings: OidcSettings, redirectUri: string, logger: Logger) {
  let discovered: Promise<client.Configuration> | undefined;

  function configuration(): Promise<client.Configuration> {
    discovered ??= discover(settings).catch((err: unknown) => {
      discovered = undefined;
      logger.warn({ issuer: settings.issuer, err: (err as Error).message }, 'OIDC discovery failed');
      throw new Unavailable('the identity provider cannot be reached; try again', { cause: err });
    });
    return discovered;
  }

  return {
    /** The provider's authorization URL and what the browser must keep until the callback. */
    async start(returnTo: string): Promise<{ url: URL; transaction: LoginTransaction }> {
      const config = await configuration();
      const codeVerifier = client.randomPKCECodeVerifier();
      const transaction = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier,
        returnTo,
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state: transaction.state,
        nonce: transaction.nonce,
      });
      return { url, transaction };
    },

    /** Redeems the code at the callback; the person's verified issuer, subject and mapped roles. */
    async finish(callbackUrl: URL, transaction: LoginTransaction): Promise<HumanPrincipal> {
      const config = await configuration();
      const tokens = await client
        .authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: transaction.codeVerifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        })
        .catch((err: unknown) => {
          throw signInFailed(err);
        });
      const claims = tokens.claims();
      if (!claims) throw new InvalidRequest('the identity provider returned no ID token');
      return {
        kind: 'human',
        issuer: claims.iss,
        subject: claims.sub,
        name: displayName(claims, claims.sub),
        roles: rolesFromClaims(claims, settings.roleClaim, settings.roleMap),
      };
    },
  };
}
export type OidcSignIn = ReturnType<typeof createOidcSignIn>;

async function discover(s: OidcSettings): Promise<client.Configuration> {
  const issuer = new URL(s.issuer);
  const auth = s.clientSecret ? client.ClientSecretPost(s.clientSecret) : client.None();
  // Plain http only to a provider on this machine (tests, a local dev provider); anything else is https.
  const options =
    issuer.protocol === 'http:' && LOOPBACK.has(issuer.host.replace(/:\d+$/, ''))
      ? { execute: [client.allowInsecureRequests] }
      : undefined;
  const config = await client.discovery(issuer, s.clientId, undefined, auth, options);
  client.enableNonRepudiationChecks(config);
  return config;
}

/**
 * A refused or forged callback (wrong state, replayed code, bad ID token) is the browser's problem (400),
 * the provider being down is ours (503). Only the library's error code reaches the caller.
 */
function signInFailed(err: unknown): Error {
  const e = err as { code?: string; error?: string; name?: string };
  if (e?.name === 'TypeError' || e?.code === 'OAUTH_TIMEOUT' || (err as Error)?.cause instanceof TypeError)
    return new Unavailable('the identity provider cannot be reached; try again', { cause: err });
  return new InvalidRequest(`sign-in failed: ${e?.error ?? e?.code ?? 'the response was not valid'}`, {
    reason: e?.code ?? 'invalid_response',
  });
}
