import { VaultNotFound } from '../../server/vault';
import { type ContractEnv, setupContractEnv } from './contract-env';

/**
 * Answers the dev Vault copies from OpenBao, the oracle (issue 12): each case here differed until the
 * contract suite first ran against a real OpenBao. Raw HTTP, so the adapter cannot paper over a difference.
 */
describe('contract: raw answers match OpenBao', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('answers');
  });
  afterAll(async () => {
    await env?.close();
  });

  const raw = async (method: string, path: string, body?: unknown, token = env.config.token) => {
    const res = await fetch(`${env.config.addr}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const multi = (message: string) => [`1 error occurred:\n\t* ${message}\n\n`];

  it('when a token without the capability calls, then 403 with the wrapped "permission denied"', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const r = await raw('GET', `secret/data/${env.kvPath}/api-key`, undefined, grant.clientToken);
    expect(r).toEqual({ status: 403, body: { errors: multi('permission denied') } });
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when an accessor is unknown or missing, then 400 with the wrapped reason', async () => {
    expect(await raw('POST', 'auth/token/lookup-accessor', { accessor: 'A'.repeat(24) })).toEqual({
      status: 400,
      body: { errors: multi('invalid accessor') },
    });
    expect(await raw('POST', 'auth/token/lookup-accessor', {})).toEqual({
      status: 400,
      body: { errors: multi('missing accessor') },
    });
  });

  it('when the legacy lease paths are called, then 404 unsupported path (only sys/leases/* exists)', async () => {
    for (const path of [`sys/revoke-prefix/${env.credsPath('read')}`, 'sys/revoke']) {
      expect(await raw('PUT', path, { lease_id: 'x' })).toEqual({
        status: 404,
        body: { errors: multi('unsupported path') },
      });
    }
  });

  it('when a grant token reads database creds, then the username follows the default template', async () => {
    const task = await env.mintTask();
    const grant = await env.mintGrant(task, [env.policy.read]);
    const secret = await env.vault.readDynamicSecret(grant.clientToken, env.credsPath('read'));
    const role = env.role.read.slice(0, 8);
    expect(String(secret.data.username)).toMatch(new RegExp(`^v-token-gr-${role}-[A-Za-z0-9]{20}-\\d{10}$`));
    expect(secret.leaseId).toMatch(new RegExp(`^${env.credsPath('read')}/[A-Za-z0-9]{24}$`));
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it("when a token is created, then its accessor has 24 characters and a bad ttl names Go's parser", async () => {
    const task = await env.mintTask();
    expect(task.accessor).toMatch(/^[A-Za-z0-9]{24}$/);
    const bad = await raw(
      'POST',
      'auth/token/create',
      { policies: [env.policy.read], ttl: 'abc' },
      task.clientToken,
    );
    expect(bad).toEqual({ status: 400, body: { errors: ['time: invalid duration "abc"'] } });
    await env.vault.revokeTokenByAccessor(task.accessor);
  });

  it('when KV v2 is read on its v1 path or on nothing, then 404 (a warning, or an empty error list)', async () => {
    const v1 = await raw('GET', `secret/${env.kvPath}/api-key`);
    expect(v1.status).toBe(404);
    expect(v1.body.warnings[0]).toContain('Invalid path for a versioned K/V secrets engine');
    expect(await raw('GET', `secret/data/${env.kvPath}/nothing`)).toEqual({
      status: 404,
      body: { errors: [] },
    });
    await expect(
      env.vault.readKv(env.config.token, `secret/data/${env.kvPath}/nothing`),
    ).rejects.toBeInstanceOf(VaultNotFound);
  });

  it('when health is asked, then the body has the OpenBao fields and no Vault Enterprise ones', async () => {
    const r = await fetch(`${env.config.addr}/v1/sys/health`);
    const body = (await r.json()) as Record<string, unknown>;
    expect(r.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(
      [
        'cluster_id',
        'cluster_name',
        'initialized',
        'replication_dr_mode',
        'replication_performance_mode',
        'sealed',
        'server_time_utc',
        'standby',
        'version',
      ].sort(),
    );
  });

  it('when a policy is read back, then it carries its CAS and version fields', async () => {
    const r = await raw('GET', `sys/policies/acl/${env.policy.read}`);
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({
      name: env.policy.read,
      version: expect.any(Number),
      cas_required: false,
      modified: expect.any(String),
    });
  });
});
