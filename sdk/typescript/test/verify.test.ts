import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import {
  argsDigest,
  metadataUrlFor,
  type TokenRejectedError,
  verifyAccessToken,
  wwwAuthenticate,
} from '../src';

const ISSUER = 'https://grantline.example';
const RESOURCE = 'https://orders.example/mcp';

describe('verifyAccessToken (RFC 9068) with a local key set', () => {
  let sign: (claims: JWTPayload, header?: Record<string, unknown>) => Promise<string>;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    sign = (claims, header = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: ISSUER,
        sub: 'spiffe://d/orchestrator/o',
        aud: RESOURCE,
        jti: 'g1',
        iat: now,
        exp: now + 300,
        scope: 'mcp:orders:read',
        client_id: 'spiffe://d/agent/a',
        task_id: 't1',
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt', ...header })
        .sign(privateKey);
    };
  });
  const opts = {
    issuer: ISSUER,
    audience: RESOURCE,
    get jwks() {
      return jwks;
    },
  };
  const reason = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: TokenRejectedError) => e.reason,
    );

  test('when the tool requires the arguments’ digest, then only a token bound to those arguments passes', async () => {
    const args = { status: 'open', limit: 10 };
    const digest = argsDigest(args);
    expect(argsDigest({ limit: 10, status: 'open' })).toBe(digest);
    const bound = await sign({ args_digest: digest });
    expect((await verifyAccessToken(bound, { ...opts, argsDigest: digest })).argsDigest).toBe(digest);
    expect(
      await reason(verifyAccessToken(bound, { ...opts, argsDigest: argsDigest({ status: 'shipped' }) })),
    ).toBe('args_digest_mismatch');
    expect(await reason(verifyAccessToken(await sign({}), { ...opts, argsDigest: digest }))).toBe(
      'args_digest_mismatch',
    );
  });

  test('when the type, issuer, lifetime or algorithm is wrong, then the reason says which', async () => {
    expect(await reason(verifyAccessToken(await sign({}, { typ: 'JWT' }), opts))).toBe('wrong_type');
    expect(await reason(verifyAccessToken(await sign({ iss: 'https://evil.example' }), opts))).toBe(
      'wrong_issuer',
    );
    expect(
      await reason(verifyAccessToken(await sign({ exp: Math.floor(Date.now() / 1000) - 60 }), opts)),
    ).toBe('expired');
    const hs = await new SignJWT({ scope: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(new Uint8Array(32));
    expect(await reason(verifyAccessToken(hs, opts))).toBe('unsupported_alg');
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(await reason(verifyAccessToken(none, opts))).not.toBe('accepted');
    expect(await reason(verifyAccessToken('garbage', opts))).toBe('malformed');
  });

  test('when the challenge and metadata URL are built, then they follow RFC 9728 §3.1 and §5.1', () => {
    expect(metadataUrlFor('https://h.example/public/mcp')).toBe(
      'https://h.example/.well-known/oauth-protected-resource/public/mcp',
    );
    expect(metadataUrlFor('https://h.example/')).toBe(
      'https://h.example/.well-known/oauth-protected-resource',
    );
    expect(
      wwwAuthenticate({
        resourceMetadataUrl: 'https://h.example/.well-known/oauth-protected-resource/mcp',
        error: 'insufficient_scope',
        description: 'the token lacks "x"',
        scopes: ['a', 'b'],
      }),
    ).toBe(
      'Bearer resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="the token lacks x", scope="a b"',
    );
  });
});
