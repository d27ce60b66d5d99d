import type pg from 'pg';
import { VaultDenied, VaultRequestError } from '../../server/vault';
import { eventually } from './contract-db';
import { type ContractEnv, setupContractEnv } from './contract-env';

interface Creds {
  username: string;
  password: string;
}

const sessionIsDead = (session: pg.Client) =>
  session.query('select 1').then(
    () => false,
    () => true,
  );

describe('contract: the token tree cascades to leases and database roles', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('cascade');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('when the orphan task token is revoked by accessor, then its child, the lease, the role and open sessions go', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.parent, env.policy.read]);
    expect(task.orphan).toBe(true);
    expect(grant.orphan).toBe(false);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read'));
    const { username, password } = secret.data as unknown as Creds;
    expect(secret.leaseId.startsWith(`${env.credsPath('read')}/`)).toBe(true);
    expect(secret.renewable).toBe(true);
    const session = await env.db.connectAs(username, password);
    expect((await session.query('select count(*)::int as n from orders')).rows[0]).toEqual({ n: 2 });
    expect((await env.vault.lookupLease(secret.leaseId))?.id).toBe(secret.leaseId);
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).toMatchObject({
      accessor: grant.accessor,
      orphan: false,
    });

    await env.vault.revokeTokenByAccessor(task.accessor);

    // Token revocation is immediate; the lease's DB user is dropped asynchronously (spec §2.5).
    expect(await env.vault.lookupTokenByAccessor(task.accessor)).toBeNull();
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).toBeNull();
    await expect(
      env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read')),
    ).rejects.toBeInstanceOf(VaultDenied);
    await eventually('the database role is dropped', async () => !(await env.db.roleExists(username)));
    await eventually('the lease is gone', async () => (await env.vault.lookupLease(secret.leaseId)) === null);
    await eventually('the session opened before revocation is terminated', () => sessionIsDead(session));
    await expect(env.db.connectAs(username, password)).rejects.toThrow();
    await session.end().catch(() => undefined); // already terminated by the server
  });

  it('when a grant is revoked, then its delegated child goes with it while the task and a sibling live on', async () => {
    const task = await env.mintTask();
    const grantA = await env.mintGrant(task, [env.policy.parent, env.policy.read]);
    const grantB = await env.mintGrant(task, [env.policy.read]);
    const delegated = await env.mintGrant(grantA, [env.policy.read], 120);
    const credsB = (await env.vault.readDynamicSecret(grantB.clientToken, env.credsPath('read')))
      .data as unknown as Creds;
    const delegatedSecret = await env.vault.readDynamicSecret(delegated.clientToken, env.credsPath('read'));
    const credsD = delegatedSecret.data as unknown as Creds;

    await env.vault.revokeTokenByAccessor(grantA.accessor);

    expect(await env.vault.lookupTokenByAccessor(grantA.accessor)).toBeNull();
    expect(await env.vault.lookupTokenByAccessor(delegated.accessor)).toBeNull();
    await eventually(
      'the delegated role is dropped',
      async () => !(await env.db.roleExists(credsD.username)),
    );
    expect(await env.vault.lookupTokenByAccessor(task.accessor)).not.toBeNull();
    expect(await env.vault.lookupTokenByAccessor(grantB.accessor)).not.toBeNull();
    expect(await env.db.roleExists(credsB.username)).toBe(true);
    await env.vault.revokeTokenByAccessor(task.accessor);
    await eventually(
      'the sibling role is dropped with the task',
      async () => !(await env.db.roleExists(credsB.username)),
    );
  });

  it('when a parent asks for a policy it does not hold for its child, then Vault refuses it', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.parent, env.policy.read]);
    const err = await env.mintGrant(grant, [env.policy.other]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRequestError);
    expect((err as VaultRequestError).vaultStatus).toBe(400);
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when the broker has minted children for many parents, then its own token is still its own', async () => {
    const tasks = await Promise.all([1, 2, 3].map(() => env.mintTask()));
    await Promise.all(tasks.map((t) => env.mintGrant(t, [env.policy.read])));
    const next = await env.mintTask();
    expect(next.orphan).toBe(true);
    for (const t of [...tasks, next]) {
      expect(await env.vault.lookupTokenByAccessor(t.accessor)).toMatchObject({ orphan: true });
      await env.vault.revokeTokenByAccessor(t.accessor);
    }
  });
});
