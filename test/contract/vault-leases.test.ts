import { eventually } from './contract-db';
import { type ContractEnv, itDevOnly, REAL_VAULT, setupContractEnv } from './contract-env';

interface RenewAnswer {
  lease_id: string;
  lease_duration: number;
  warnings: string[] | null;
}

const usernameOf = (data: Record<string, unknown>) => String(data.username);

describe('contract: leases expire, renew up to their max TTL and revoke idempotently', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('leases', { manualClock: true });
  });
  afterAll(async () => {
    await env?.close();
  });

  /** Moves the dev server's clock past `seconds` and runs its expiry pass; against real Vault, just waits. */
  const letTimePass = async (seconds: number) => {
    if (REAL_VAULT) return;
    env.clock!.advance(seconds * 1000);
    await env.dev!.tick();
  };

  it('when a lease reaches its TTL, then Vault revokes it and the database role is dropped', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('short'));
    const username = usernameOf(secret.data);
    expect(secret.leaseDuration).toBe(REAL_VAULT ? 2 : 30);
    expect(await env.db.roleExists(username)).toBe(true);

    await letTimePass(secret.leaseDuration + 1);

    await eventually('the expired role is dropped', async () => !(await env.db.roleExists(username)), {
      timeoutMs: 30_000,
    });
    await eventually(
      'the expired lease is gone',
      async () => (await env.vault.lookupLease(secret.leaseId)) === null,
    );
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).not.toBeNull();
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  itDevOnly('when a task token reaches its TTL, then its grants and their leases are revoked', async () => {
    const task = await env.mintTask(10);
    const grant = await env.mintGrant(task, [env.policy.read], 600);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read'));

    await letTimePass(11);

    expect(await env.vault.lookupTokenByAccessor(task.accessor)).toBeNull();
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).toBeNull();
    await eventually(
      'the role of the expired tree is dropped',
      async () => !(await env.db.roleExists(usernameOf(secret.data))),
    );
  });

  it('when a lease is renewed past its max TTL, then the TTL is capped with a warning', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('renew'));
    expect(secret.leaseDuration).toBe(60);

    const renewed = (await env.vault.write('sys/leases/renew', {
      lease_id: secret.leaseId,
      increment: 3600,
    })) as RenewAnswer;

    expect(renewed.lease_id).toBe(secret.leaseId);
    expect(renewed.lease_duration).toBeGreaterThan(100);
    expect(renewed.lease_duration).toBeLessThanOrEqual(120);
    expect(renewed.warnings?.join(' ')).toMatch(/exceeded the effective max_ttl of .*capped/);
    const info = await env.vault.lookupLease(secret.leaseId);
    expect(info?.ttl).toBeGreaterThan(60);
    expect(info?.ttl).toBeLessThanOrEqual(120);
    expect(info?.expireTime).toEqual(expect.any(String));
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a lease is revoked twice, then the second revocation is harmless and the role is gone', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read'));

    await env.vault.revokeLease(secret.leaseId);
    await env.vault.revokeLease(secret.leaseId);

    expect(await env.vault.lookupLease(secret.leaseId)).toBeNull();
    await eventually(
      'the revoked role is dropped',
      async () => !(await env.db.roleExists(usernameOf(secret.data))),
    );
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).not.toBeNull();
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a token is revoked twice by accessor, then the second revocation is harmless', async () => {
    const task = await env.mintTask();
    await env.vault.revokeTokenByAccessor(task.accessor);
    await env.vault.revokeTokenByAccessor(task.accessor);
    expect(await env.vault.lookupTokenByAccessor(task.accessor)).toBeNull();
  });

  it('when leases are revoked by prefix, then every lease under it goes and others stay', async () => {
    const task = await env.mintTask();
    const reader = await env.mintGrant(task, [env.policy.read]);
    const other = await env.mintGrant(task, [env.policy.other]);
    const a = await env.vault.readDynamicSecret(other.clientToken, env.credsPath('other'));
    const b = await env.vault.readDynamicSecret(other.clientToken, env.credsPath('other'));
    const keep = await env.vault.readDynamicSecret(reader.clientToken, env.credsPath('read'));

    await env.vault.revokeLeasePrefix(env.credsPath('other'));

    for (const s of [a, b]) {
      expect(await env.vault.lookupLease(s.leaseId)).toBeNull();
      await eventually(
        'the prefix-revoked role is dropped',
        async () => !(await env.db.roleExists(usernameOf(s.data))),
      );
    }
    expect(await env.vault.lookupLease(keep.leaseId)).not.toBeNull();
    expect(await env.db.roleExists(usernameOf(keep.data))).toBe(true);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });
});
