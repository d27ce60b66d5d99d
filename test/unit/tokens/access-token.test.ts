import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { createTokenIssuer } from '../../../server/tokens/access-token';
import { buildSigningKeys, type SigningKeys } from '../../../server/tokens/signing-keys';
import { InvalidAccessToken, InvalidTokenClaims } from '../../../server/tokens/token.errors';
import {
  AGENT_A,
  AGENT_B,
  AGENT_C,
  accessClaims,
  b64url,
  decodePart,
  ISSUER,
  newIssuer,
  newSigningKey,
  ORCHESTRATOR,
} from './token-fixtures';

const THUMBPRINT = Buffer.alloc(32, 7).toString('base64url');

/** Signs arbitrary content with our real key: for tokens whose signature is fine but whose content is not. */
function signWithOurKey(
  keys: SigningKeys,
  payload: Record<string, unknown>,
  typ = 'at+jwt',
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: keys.current.kid, typ })
    .sign(keys.current.privateKey);
}

async function expectRejected(promise: Promise<unknown>, reason: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidAccessToken);
  expect(err).toMatchObject({ reason, code: 'invalid_token', status: 401 });
}

describe('access tokens', () => {
  it('when a token is minted, then it verifies back to the same claims', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const claims = accessClaims(clock, { certThumbprint: THUMBPRINT });
    const token = await issuer.mintAccessToken(claims);

    const verified = await issuer.verifyAccessToken(token, { audience: claims.audiences[0] });

    expect(verified).toEqual({
      grantId: 'grant-1',
      taskId: 'task-1',
      issuer: ISSUER,
      subject: ORCHESTRATOR,
      audiences: ['https://orders.example'],
      scopes: ['db:orders:read', 'kv:crm/api-key'],
      clientId: AGENT_A,
      chain: [AGENT_A],
      issuedAt: clock.now(),
      expiresAt: claims.expiresAt,
      certThumbprint: THUMBPRINT,
      kid: keys.current.kid,
    });
  });

  it('when a token is minted, then it carries the RFC 9068 header and claims', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const token = await issuer.mintAccessToken(accessClaims(clock, { certThumbprint: THUMBPRINT }));

    expect(decodePart(token, 0)).toEqual({ alg: 'ES256', kid: keys.current.kid, typ: 'at+jwt' });
    const now = Math.floor(clock.now().getTime() / 1000);
    expect(decodePart(token, 1)).toEqual({
      iss: ISSUER,
      sub: ORCHESTRATOR,
      aud: 'https://orders.example',
      jti: 'grant-1',
      iat: now,
      exp: now + 300,
      scope: 'db:orders:read kv:crm/api-key',
      task_id: 'task-1',
      client_id: AGENT_A,
      act: { sub: AGENT_A },
      cnf: { 'x5t#S256': THUMBPRINT },
    });
  });

  it.each([
    { label: 'A', chain: [AGENT_A], act: { sub: AGENT_A } },
    { label: 'B ⟵ A', chain: [AGENT_A, AGENT_B], act: { sub: AGENT_B, act: { sub: AGENT_A } } },
    {
      label: 'C ⟵ B ⟵ A',
      chain: [AGENT_A, AGENT_B, AGENT_C],
      act: { sub: AGENT_C, act: { sub: AGENT_B, act: { sub: AGENT_A } } },
    },
  ])('when the chain is $label, then act nests with the current holder outermost', async ({ chain, act }) => {
    const { issuer, clock } = await newIssuer();
    const holder = chain.at(-1) as string;
    const token = await issuer.mintAccessToken(accessClaims(clock, { chain, holder }));

    expect(decodePart(token, 1).act).toEqual(act);
    expect(decodePart(token, 1).client_id).toBe(holder);
    await expect(issuer.verifyAccessToken(token)).resolves.toMatchObject({ chain, clientId: holder });
  });

  it('when the token is past exp plus the leeway, then it is rejected as expired', async () => {
    const { issuer, clock } = await newIssuer();
    const token = await issuer.mintAccessToken(accessClaims(clock));

    clock.advance(299_000);
    await expect(issuer.verifyAccessToken(token)).resolves.toMatchObject({ grantId: 'grant-1' });
    clock.advance(7_000);
    await expectRejected(issuer.verifyAccessToken(token), 'expired');
  });

  it('when the token was issued in the future, then it is rejected', async () => {
    const { issuer, clock } = await newIssuer();
    const token = await issuer.mintAccessToken(accessClaims(clock));

    clock.advance(-60_000);
    await expectRejected(issuer.verifyAccessToken(token), 'not_yet_valid');
  });

  it('when the payload is tampered with, then the signature check fails', async () => {
    const { issuer, clock } = await newIssuer();
    const [header, payload, signature] = (await issuer.mintAccessToken(accessClaims(clock))).split('.');
    const widened = {
      ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
      scope: 'payments:refund',
    };

    await expectRejected(
      issuer.verifyAccessToken(`${header}.${b64url(widened)}.${signature}`),
      'bad_signature',
    );
  });

  it('when another key signed the token under our kid, then the signature check fails', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const { issuer: other } = await newIssuer({ clock });
    const [, payload, signature] = (await other.mintAccessToken(accessClaims(clock))).split('.');
    const ourHeader = b64url({ alg: 'ES256', kid: keys.current.kid, typ: 'at+jwt' });

    await expectRejected(issuer.verifyAccessToken(`${ourHeader}.${payload}.${signature}`), 'bad_signature');
  });

  it('when another key signed the token under its own kid, then the key is unknown', async () => {
    const { issuer, clock } = await newIssuer();
    const { issuer: other } = await newIssuer({ clock });

    await expectRejected(
      issuer.verifyAccessToken(await other.mintAccessToken(accessClaims(clock))),
      'unknown_key',
    );
  });

  it('when a token says alg none, then it is rejected', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const payload = decodePart(await issuer.mintAccessToken(accessClaims(clock)), 1);
    const header = b64url({ alg: 'none', kid: keys.current.kid, typ: 'at+jwt' });

    await expectRejected(issuer.verifyAccessToken(`${header}.${b64url(payload)}.`), 'unsupported_alg');
  });

  it('when a token is HS256-signed with our public key as the secret, then it is rejected', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const secret = new TextEncoder().encode(JSON.stringify(keys.current.publicJwk));
    const forged = await new SignJWT(decodePart(await issuer.mintAccessToken(accessClaims(clock)), 1))
      .setProtectedHeader({ alg: 'HS256', kid: keys.current.kid, typ: 'at+jwt' })
      .sign(secret);
    // Hand-rolled too, so the test does not depend on jose agreeing to sign it.
    const input = `${b64url({ alg: 'HS256', kid: keys.current.kid, typ: 'at+jwt' })}.${forged.split('.')[1]}`;
    const manual = `${input}.${createHmac('sha256', keys.current.publicJwk.x ?? '')
      .update(input)
      .digest('base64url')}`;

    await expectRejected(issuer.verifyAccessToken(forged), 'unsupported_alg');
    await expectRejected(issuer.verifyAccessToken(manual), 'unsupported_alg');
  });

  it('when a delegation token is presented as an access token, then it is the wrong type', async () => {
    const { issuer, clock } = await newIssuer();
    const delegation = await issuer.mintDelegationToken({
      offerId: 'offer-1',
      parentGrantId: 'grant-1',
      taskId: 'task-1',
      from: AGENT_A,
      to: AGENT_B,
      scopes: ['db:orders:read'],
      expiresAt: new Date(clock.now().getTime() + 60_000),
    });

    await expectRejected(issuer.verifyAccessToken(delegation), 'wrong_type');
  });

  it('when the issuer or the audience differ, then the token is rejected', async () => {
    const key = await newSigningKey();
    const { issuer, clock } = await newIssuer({ current: key });
    const token = await issuer.mintAccessToken(accessClaims(clock));
    const elsewhere = createTokenIssuer({
      keys: buildSigningKeys(key),
      issuer: 'https://other.example',
      clock,
    });

    await expectRejected(elsewhere.verifyAccessToken(token), 'wrong_issuer');
    await expectRejected(
      issuer.verifyAccessToken(token, { audience: 'https://payments.example' }),
      'wrong_audience',
    );
  });

  it('when a grant names several resources (RFC 8707), then aud is an array and each one verifies', async () => {
    const { issuer, clock } = await newIssuer();
    const audiences = ['https://orders.example/mcp', 'https://billing.example/mcp'];
    const token = await issuer.mintAccessToken(accessClaims(clock, { audiences }));

    expect(decodePart(token, 1).aud).toEqual(audiences);
    for (const audience of audiences)
      await expect(issuer.verifyAccessToken(token, { audience })).resolves.toMatchObject({ audiences });
    await expectRejected(
      issuer.verifyAccessToken(token, { audience: 'https://payments.example' }),
      'wrong_audience',
    );
  });

  it('when the input is not a JWT or is oversized, then it is malformed', async () => {
    const { issuer } = await newIssuer();

    await expectRejected(issuer.verifyAccessToken('not-a-jwt'), 'malformed');
    await expectRejected(issuer.verifyAccessToken(''), 'malformed');
    await expectRejected(issuer.verifyAccessToken('a'.repeat(20_000)), 'malformed');
  });

  it('when the claims break the token rules, then minting refuses', async () => {
    const { issuer, clock } = await newIssuer();
    const bad = [
      accessClaims(clock, { expiresAt: clock.now() }),
      accessClaims(clock, { scopes: [] }),
      accessClaims(clock, { scopes: ['two words'] }),
      accessClaims(clock, { chain: [AGENT_A, AGENT_B], holder: AGENT_A }),
      accessClaims(clock, { chain: [] }),
      accessClaims(clock, { subject: '' }),
      accessClaims(clock, { audiences: [] }),
      accessClaims(clock, { audiences: ['ok', ''] }),
      accessClaims(clock, { certThumbprint: 'not-a-thumbprint' }),
    ];

    for (const claims of bad) {
      await expect(issuer.mintAccessToken(claims)).rejects.toBeInstanceOf(InvalidTokenClaims);
    }
  });

  it('when our key signed claims of the wrong shape, then the token is still rejected', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const good = decodePart(
      await issuer.mintAccessToken(accessClaims(clock, { chain: [AGENT_A, AGENT_B], holder: AGENT_B })),
      1,
    );
    const { act: _act, ...withoutAct } = good;
    let deep: Record<string, unknown> = { sub: AGENT_A };
    for (let i = 0; i < 40; i += 1) deep = { sub: AGENT_B, act: deep };
    const cases: Array<[Record<string, unknown>, string]> = [
      [withoutAct, 'missing_claim'],
      [{ ...good, client_id: AGENT_A }, 'invalid_claim'],
      [{ ...good, act: { sub: AGENT_B, act: 'agent-a' } }, 'invalid_claim'],
      [{ ...good, act: deep }, 'invalid_claim'],
      [{ ...good, scope: ['db:orders:read'] }, 'invalid_claim'],
      [{ ...good, scope: 'db:orders:read  kv:x' }, 'invalid_claim'],
      [{ ...good, aud: [] }, 'invalid_claim'],
      [{ ...good, aud: ['https://orders.example', 42] }, 'invalid_claim'],
      [{ ...good, cnf: { 'x5t#S256': 42 } }, 'invalid_claim'],
      [{ ...good, exp: undefined }, 'missing_claim'],
    ];

    for (const [payload, reason] of cases) {
      await expectRejected(issuer.verifyAccessToken(await signWithOurKey(keys, payload)), reason);
    }
    await expectRejected(issuer.verifyAccessToken(await signWithOurKey(keys, good, 'JWT')), 'wrong_type');
    await expect(
      issuer.verifyAccessToken(await signWithOurKey(keys, good, 'application/AT+JWT')),
    ).resolves.toMatchObject({
      chain: [AGENT_A, AGENT_B],
    });
  });
});
