import { loginCreatedAt, noMintInFlightFor } from '../../../server/revocation/lost-logins';

describe('lost logins: proved by time', () => {
  test('when a login is named by Vault’s default template, then its creation time is the unix time that ends it', () => {
    expect(loginCreatedAt('v-token-gr-demo-rea-d7q1YF8HZlttbupElJxN-1796103688')).toEqual(
      new Date(1796103688 * 1000),
    );
  });

  test('when a login’s name does not end in a unix time, then its creation time is unknown', () => {
    expect(loginCreatedAt('v-token-gr-demo-rea-d7q1YF8HZlttbupElJxN')).toBeNull();
    expect(loginCreatedAt('v-token-gr-demo-rea-17961036880000')).toBeNull();
  });

  test('when no grant is being minted, then no mint in flight can own any login', () => {
    expect(noMintInFlightFor(new Date(), null)).toBe(true);
  });

  test('when the oldest pending grant was reserved before the login, or within the clock slack after, then the login may be its', () => {
    const created = new Date('2026-12-01T05:00:00Z');
    expect(noMintInFlightFor(created, new Date('2026-12-01T04:59:00Z'))).toBe(false);
    expect(noMintInFlightFor(created, new Date('2026-12-01T05:00:09Z'))).toBe(false);
  });

  test('when every pending grant was reserved well after the login was made, then the login is lost', () => {
    const created = new Date('2026-12-01T05:00:00Z');
    expect(noMintInFlightFor(created, new Date('2026-12-01T05:00:11Z'))).toBe(true);
  });
});
