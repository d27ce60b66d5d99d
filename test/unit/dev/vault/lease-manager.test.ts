import { createLeaseManager } from '../../../../server/dev/vault/lease-manager';
import type { LeaseBackend } from '../../../../server/dev/vault/lease-store';
import { ManualClock } from '../../../../server/shared/clock';
import { createLogger } from '../../../../server/shared/logger';

function setup(failures = 0) {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12, 0, 0));
  const calls = { revoke: 0, renew: [] as number[] };
  let left = failures;
  const backend: LeaseBackend = {
    async revoke() {
      calls.revoke += 1;
      if (left !== 0) {
        left -= 1;
        throw new Error('role "x" cannot be dropped');
      }
    },
    async renew(_lease, expireAtMs) {
      calls.renew.push(expireAtMs);
    },
  };
  const leases = createLeaseManager({
    clock,
    logger: createLogger({ level: 'silent' }),
    retry: { attempts: 3, baseDelayMs: 1000 },
  });
  const register = (tokenId = 'hvs.a') =>
    leases.register({
      path: 'database/creds/ro',
      tokenId,
      ttl: 3600,
      grantedTtl: 3600,
      maxTtl: 7200,
      renewable: true,
      internal: {},
      backend,
    });
  return { clock, calls, leases, register };
}

describe('lease manager', () => {
  it('when a lease is registered, then its id is <path>/<24 base62>', () => {
    const { register } = setup();
    expect(register().id).toMatch(/^database\/creds\/ro\/[A-Za-z0-9]{24}$/);
  });

  it('when renewed, then the backend hears the new expiry and the TTL is capped at issue + max_ttl', async () => {
    const { clock, calls, leases, register } = setup();
    const lease = register();
    clock.advance(3000_000);
    expect((await leases.renew(lease.id, 3600)).warnings).toEqual([]);
    clock.advance(3000_000);
    const r = await leases.renew(lease.id, 3600);
    expect(r.ttl).toBe(1200);
    expect(r.warnings[0]).toBe(
      'TTL of "1h" exceeded the effective max_ttl of "20m"; TTL value is capped accordingly',
    );
    expect(calls.renew[1]).toBe(clock.now().getTime() + 1200_000);
  });

  it('when renewing an unknown or expired lease, then 400 with the spec messages', async () => {
    const { clock, leases, register } = setup();
    await expect(leases.renew('database/creds/ro/nope', 60)).rejects.toThrow('lease not found');
    const lease = register();
    clock.advance(3600_000);
    await expect(leases.renew(lease.id, 60)).rejects.toThrow('lease expired');
  });

  it('when a lease expires, then processDue revokes it and it is gone', async () => {
    const { clock, calls, leases, register } = setup();
    const lease = register();
    clock.advance(3600_000);
    await leases.processDue();
    expect(calls.revoke).toBe(1);
    expect(leases.lookup(lease.id)).toBeUndefined();
  });

  it('when revocation fails, then it retries after 2^n × base and becomes irrevocable past the budget', async () => {
    const { clock, calls, leases, register } = setup(Number.POSITIVE_INFINITY);
    const lease = register();
    await expect(leases.revoke(lease.id)).rejects.toThrow(
      'failed to revoke entry: role "x" cannot be dropped',
    );
    expect(lease).toMatchObject({ revokeAttempts: 1, irrevocable: false });
    clock.advance(1999);
    await leases.processDue();
    expect(calls.revoke).toBe(1);
    clock.advance(1);
    await leases.processDue();
    expect(lease.revokeAttempts).toBe(2);
    clock.advance(4000);
    await leases.processDue();
    expect(lease).toMatchObject({ revokeAttempts: 3, irrevocable: true, nextAttemptMs: null });
    clock.advance(3_600_000);
    await leases.processDue();
    expect(calls.revoke).toBe(3);
    await expect(leases.renew(lease.id, 60)).rejects.toThrow('failed previous revocation attempts');
    await leases.revokeForce(lease.id);
    expect(leases.lookup(lease.id)).toBeUndefined();
  });

  it('when a retry succeeds, then the lease is removed', async () => {
    const { clock, leases, register } = setup(1);
    const lease = register();
    await expect(leases.revoke(lease.id)).rejects.toThrow();
    clock.advance(2000);
    await leases.processDue();
    expect(leases.lookup(lease.id)).toBeUndefined();
  });

  it('when a token is revoked, then its leases are revoked without waiting for expiry', async () => {
    const { calls, leases, register } = setup();
    const mine = register('hvs.a');
    const other = register('hvs.b');
    leases.revokeForTokens(['hvs.a']);
    await leases.drain();
    expect(calls.revoke).toBe(1);
    expect(leases.lookup(mine.id)).toBeUndefined();
    expect(leases.lookup(other.id)).toBe(other);
  });

  it('when listing or revoking by prefix, then the prefix is a path prefix ending at a slash', async () => {
    const { leases, register } = setup();
    const a = register();
    const b = leases.register({ ...a, path: 'database/creds/ro2', grantedTtl: 60 });
    expect(leases.list('database/creds')).toEqual(['ro/', 'ro2/']);
    await leases.revokePrefix('database/creds/ro', true);
    expect(leases.lookup(a.id)).toBeUndefined();
    expect(leases.lookup(b.id)).toBe(b);
  });
});
