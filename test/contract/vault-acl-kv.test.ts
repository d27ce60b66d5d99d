import { VaultDenied, VaultNotFound } from '../../server/vault';
import { type ContractEnv, setupContractEnv } from './contract-env';

describe('contract: ACL policies and KV v2 reads', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('acl-kv');
  });
  afterAll(async () => {
    await env?.close();
  });

  it("when a grant token for one role reads another role's creds path, then Vault denies it with 403", async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const own = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read'));
    expect(own.leaseId).toContain(env.role.read);

    const err = await env.vault
      .readDynamicSecret(grant.clientToken, env.credsPath('other'))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(VaultDenied);
    expect((err as VaultDenied).vaultStatus).toBe(403);
    expect((err as VaultDenied).status).toBe(502);
    expect(await env.db.mintedRoles()).toEqual([String(own.data.username)]);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a token with a KV policy reads its secret, then it gets data.data', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.kv]);
    const data = await env.vault.readKv(grant.clientToken, `secret/data/${env.kvPath}/api-key`);
    expect(data).toEqual({ api_key: expect.stringMatching(/^demo-/), owner: 'crm' });
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a token without the KV policy reads the secret, then Vault denies it', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    await expect(
      env.vault.readKv(grant.clientToken, `secret/data/${env.kvPath}/api-key`),
    ).rejects.toBeInstanceOf(VaultDenied);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a KV path the token may read holds nothing, then the read is VaultNotFound', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.kv]);
    await expect(
      env.vault.readKv(grant.clientToken, `secret/data/${env.kvPath}/missing`),
    ).rejects.toBeInstanceOf(VaultNotFound);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when a revoked token reads KV, then Vault denies it', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.kv]);
    await env.vault.revokeTokenByAccessor(grant.accessor);
    await expect(
      env.vault.readKv(grant.clientToken, `secret/data/${env.kvPath}/api-key`),
    ).rejects.toBeInstanceOf(VaultDenied);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when looking up a lease or an accessor that never existed, then the answer is null', async () => {
    expect(await env.vault.lookupLease(`${env.credsPath('read')}/AAAAAAAAAAAAAAAAAAAAAAAA`)).toBeNull();
    expect(await env.vault.lookupTokenByAccessor('AAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
  });
});
