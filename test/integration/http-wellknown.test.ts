import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { AGENT_A, ORCHESTRATOR, startTestBroker, type TestBroker } from '../helpers/broker';
import { grantOk, openTask } from '../helpers/scenario';

/**
 * Resource servers verify Grantline tokens offline: the JWKS and RFC 8414 metadata are public, and an
 * access token is an RFC 9068 JWT whose claims name the task, the holder and the whole actor chain.
 */
describe('keys, metadata and the shape of an access token', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when fetched without an SVID, then the JWKS and the metadata answer 200', async () => {
    const jwks = await t.call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({
        kty: 'EC',
        crv: 'P-256',
        alg: 'ES256',
        use: expect.stringMatching(/^(sig|audit)$/),
        kid: expect.any(String),
      });
      expect(key).not.toHaveProperty('d');
    }
    // Token signing keys, and the audit checkpoint key apart from them (issue 13).
    expect(jwks.body.keys.filter((k: { use: string }) => k.use === 'sig').length).toBeGreaterThanOrEqual(1);
    expect(jwks.body.keys.filter((k: { use: string }) => k.use === 'audit')).toHaveLength(1);
    const meta = await t.call('GET', '/.well-known/oauth-authorization-server');
    expect(meta.status).toBe(200);
    const issuer = t.broker.tokens.issuer;
    expect(meta.body).toMatchObject({
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      introspection_endpoint: `${issuer}/oauth2/introspect`,
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      token_endpoint: `${issuer}/oauth2/token`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
    });
    expect(meta.body.scopes_supported).toEqual(
      expect.arrayContaining(['db:demo:read', 'kv:demo/api-key', 'tool:demo:deploy']),
    );
  });

  test('when an access token is verified against the JWKS, then it is an RFC 9068 JWT with the task, holder and act claims', async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['kv:demo/api-key', 'db:demo:read'], {
      audience: 'orders-api',
      ttl: '2m',
    });
    expect(grant).toMatchObject({
      token_type: 'Bearer',
      expires_in: 120,
      scope: 'db:demo:read kv:demo/api-key',
    });
    const jwks = createLocalJWKSet((await t.call('GET', '/.well-known/jwks.json')).body);
    const { payload, protectedHeader } = await jwtVerify(grant.access_token, jwks, {
      issuer: t.broker.tokens.issuer,
      audience: 'orders-api',
      typ: 'at+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({
      iss: t.broker.tokens.issuer,
      sub: ORCHESTRATOR,
      aud: 'orders-api',
      jti: grant.grant_id,
      client_id: AGENT_A,
      scope: 'db:demo:read kv:demo/api-key',
      task_id: taskId,
      act: { sub: AGENT_A },
    });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(10);
    expect(decodeProtectedHeader(grant.access_token).kid).toBe(protectedHeader.kid);
  });

  test('when the audience is someone else, then a resource server verifying with jose rejects the token', async () => {
    const taskId = await openTask(t);
    const grant = await grantOk(t, taskId, ['kv:demo/api-key'], { audience: 'orders-api' });
    const jwks = createLocalJWKSet((await t.call('GET', '/.well-known/jwks.json')).body);
    await expect(
      jwtVerify(grant.access_token, jwks, {
        issuer: t.broker.tokens.issuer,
        audience: 'billing-api',
        typ: 'at+jwt',
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });
});
