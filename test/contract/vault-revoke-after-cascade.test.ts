import type { LeaseRow } from '../../server/db/database';
import { revokeAndVerify } from '../../server/revocation/lease-revoker';
import { type ContractEnv, setupContractEnv } from './contract-env';

/** A tracked token handle as the worker reads it from `leases`. */
const tokenLease = (accessor: string): LeaseRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  task_id: '00000000-0000-4000-8000-000000000002',
  grant_id: null,
  scope: null,
  kind: 'grant_token',
  vault_lease_id: null,
  vault_token_accessor: accessor,
  state: 'active',
  attempts: 0,
  last_error: null,
  created_at: new Date(),
  expires_at: new Date(Date.now() + 600_000),
  revoked_at: null,
  db_role: null,
  db_target: null,
  verified_at: null,
});

describe('contract: after the task token cascade, every handle is still proved gone one by one', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('after-cascade');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('when the task token is revoked, then its child is proved gone by a lookup and marked revoked and verified', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    await env.vault.revokeTokenByAccessor(task.accessor);

    const outcome = await revokeAndVerify(env, tokenLease(grant.accessor), new Date(), { cascaded: true });

    expect(outcome).toEqual({ state: 'revoked', verified: true });
    expect(await env.vault.lookupTokenByAccessor(grant.accessor)).toBeNull();
  });

  it('when a tracked token is not under the task token, then the cascade misses it and the worker revokes it itself', async () => {
    const task = await env.mintTask();
    const outsider = await env.mintTask(); // an orphan: no cascade from `task` reaches it
    await env.vault.revokeTokenByAccessor(task.accessor);
    expect(await env.vault.lookupTokenByAccessor(outsider.accessor)).not.toBeNull();

    const outcome = await revokeAndVerify(env, tokenLease(outsider.accessor), new Date(), { cascaded: true });

    expect(outcome).toEqual({ state: 'revoked', verified: true });
    expect(await env.vault.lookupTokenByAccessor(outsider.accessor)).toBeNull();
  });

  it('when Vault lists its accessors after the cascade, then a child absent from the list is proved gone and a token in it is still revoked', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const outsider = await env.mintTask();
    await env.vault.revokeTokenByAccessor(task.accessor);
    const liveAccessors = new Set(await env.vault.listTokenAccessors());
    expect(liveAccessors.has(grant.accessor)).toBe(false);
    expect(liveAccessors.has(outsider.accessor)).toBe(true);

    const opts = { cascaded: true, liveAccessors };
    expect(await revokeAndVerify(env, tokenLease(grant.accessor), new Date(), opts)).toEqual({
      state: 'revoked',
      verified: true,
    });
    expect(await revokeAndVerify(env, tokenLease(outsider.accessor), new Date(), opts)).toEqual({
      state: 'revoked',
      verified: true,
    });
    expect(await env.vault.lookupTokenByAccessor(outsider.accessor)).toBeNull();
  });
});
