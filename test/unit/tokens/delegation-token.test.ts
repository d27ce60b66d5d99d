import {
  InvalidAccessToken,
  InvalidDelegationToken,
  InvalidTokenClaims,
} from '../../../server/tokens/token.errors';
import {
  AGENT_A,
  AGENT_B,
  accessClaims,
  decodePart,
  delegationClaims,
  ISSUER,
  newIssuer,
} from './token-fixtures';

async function expectRejected(promise: Promise<unknown>, reason: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidDelegationToken);
  // RFC 8693 §2.2.2: an unacceptable subject token is invalid_request, not invalid_grant.
  expect(err).toMatchObject({ reason, code: 'invalid_request', status: 400 });
}

describe('delegation tokens', () => {
  it('when an offer is minted, then it verifies back to the same claims', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const claims = delegationClaims(clock);

    const verified = await issuer.verifyDelegationToken(await issuer.mintDelegationToken(claims));

    expect(verified).toEqual({
      offerId: 'offer-1',
      parentGrantId: 'grant-1',
      taskId: 'task-1',
      from: AGENT_A,
      to: AGENT_B,
      scopes: ['db:orders:read'],
      issuer: ISSUER,
      issuedAt: clock.now(),
      expiresAt: claims.expiresAt,
      kid: keys.current.kid,
    });
  });

  it('when an offer is minted, then it is addressed to the broker and bound by may_act', async () => {
    const { issuer, clock, keys } = await newIssuer();
    const token = await issuer.mintDelegationToken(delegationClaims(clock));
    const now = Math.floor(clock.now().getTime() / 1000);

    expect(decodePart(token, 0)).toEqual({ alg: 'ES256', kid: keys.current.kid, typ: 'delegation+jwt' });
    expect(decodePart(token, 1)).toEqual({
      iss: ISSUER,
      sub: AGENT_A,
      aud: ISSUER,
      jti: 'offer-1',
      iat: now,
      exp: now + 60,
      scope: 'db:orders:read',
      task_id: 'task-1',
      parent_grant: 'grant-1',
      may_act: { sub: AGENT_B },
    });
  });

  it('when an access token is presented as an offer, then it is the wrong type', async () => {
    const { issuer, clock } = await newIssuer();
    const accessToken = await issuer.mintAccessToken(accessClaims(clock));

    await expectRejected(issuer.verifyDelegationToken(accessToken), 'wrong_type');
  });

  it('when an offer is presented as an access token, then it is the wrong type', async () => {
    const { issuer, clock } = await newIssuer();
    const offer = await issuer.mintDelegationToken(delegationClaims(clock));

    await expect(issuer.verifyAccessToken(offer)).rejects.toEqual(expect.any(InvalidAccessToken));
    await expect(issuer.verifyAccessToken(offer)).rejects.toMatchObject({ reason: 'wrong_type' });
  });

  it('when the offer has expired, then it is rejected', async () => {
    const { issuer, clock } = await newIssuer();
    const offer = await issuer.mintDelegationToken(delegationClaims(clock));

    clock.advance(66_000);
    await expectRejected(issuer.verifyDelegationToken(offer), 'expired');
  });

  it('when another broker minted the offer, then it is rejected', async () => {
    const { issuer, clock } = await newIssuer();
    const { issuer: other } = await newIssuer({ clock });

    await expectRejected(
      issuer.verifyDelegationToken(await other.mintDelegationToken(delegationClaims(clock))),
      'unknown_key',
    );
  });

  it('when the offer names its own delegator or no scope, then minting refuses', async () => {
    const { issuer, clock } = await newIssuer();

    await expect(issuer.mintDelegationToken(delegationClaims(clock, { to: AGENT_A }))).rejects.toBeInstanceOf(
      InvalidTokenClaims,
    );
    await expect(issuer.mintDelegationToken(delegationClaims(clock, { scopes: [] }))).rejects.toBeInstanceOf(
      InvalidTokenClaims,
    );
  });
});
