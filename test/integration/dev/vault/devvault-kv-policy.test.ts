import type { DevVault } from '../../../../server/dev/vault';
import { call, createToken, dataOf, startManualVault } from './devvault-harness';

describe('dev vault KV v2 and ACL policies', () => {
  let vault: DevVault;

  beforeAll(async () => {
    ({ vault } = await startManualVault());
  });
  afterAll(async () => {
    await vault.close();
  });

  it('when a KV secret is written and read, then it is versioned and carries no lease', async () => {
    const w = await call(vault, 'POST', 'secret/data/app/db', { body: { data: { user: 'u', pass: 'p' } } });
    expect(w.status).toBe(200);
    expect(dataOf(w)).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    await call(vault, 'PUT', 'secret/data/app/db', { body: { data: { user: 'u2' }, options: { cas: 1 } } });
    const r = await call(vault, 'GET', 'secret/data/app/db');
    expect(r.body).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0 });
    expect(dataOf(r)).toMatchObject({ data: { user: 'u2' }, metadata: { version: 2 } });
    expect(dataOf(await call(vault, 'GET', 'secret/data/app/db?version=1')).data).toEqual({
      user: 'u',
      pass: 'p',
    });
    const cas = await call(vault, 'POST', 'secret/data/app/db', { body: { data: {}, options: { cas: 1 } } });
    expect(cas.body).toEqual({ errors: ['check-and-set parameter did not match the current version'] });
    expect(dataOf(await call(vault, 'GET', 'secret/metadata/app?list=true')).keys).toEqual(['db']);
  });

  it('when a KV secret is missing, deleted, or read by its v1 path, then 404 as Vault answers', async () => {
    const missing = await call(vault, 'GET', 'secret/data/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
    await call(vault, 'POST', 'secret/data/gone', { body: { data: { a: 1 } } });
    expect((await call(vault, 'DELETE', 'secret/data/gone')).status).toBe(204);
    const deleted = await call(vault, 'GET', 'secret/data/gone');
    expect(deleted.status).toBe(404);
    expect(dataOf(deleted)).toMatchObject({ data: null, metadata: { version: 1 } });
    const v1 = await call(vault, 'GET', 'secret/gone');
    expect(v1.status).toBe(404);
    expect((v1.body!.warnings as string[])[0]).toContain('Invalid path for a versioned K/V secrets engine');
  });

  it('when policies are written as JSON, objects or HCL, then they are read back and enforced', async () => {
    const hcl = 'path "secret/data/team/*" {\n  capabilities = ["read", "create", "update"]\n}\n';
    expect((await call(vault, 'PUT', 'sys/policy/team', { body: { policy: hcl } })).status).toBe(204);
    const read = await call(vault, 'GET', 'sys/policy/team');
    expect(read.body).toMatchObject({ name: 'team', rules: hcl, data: { name: 'team', rules: hcl } });
    const obj = { path: { 'secret/data/team/private': { capabilities: ['deny'] } } };
    expect((await call(vault, 'PUT', 'sys/policies/acl/nope', { body: { policy: obj } })).status).toBe(204);
    const { token } = await createToken(vault, { policies: ['team', 'nope'], ttl: '1h' });
    const ok = await call(vault, 'POST', 'secret/data/team/x', { token, body: { data: { a: 1 } } });
    expect(ok.status).toBe(200);
    const denied = await call(vault, 'POST', 'secret/data/team/private', { token, body: { data: { a: 1 } } });
    expect(denied.status).toBe(403);
    expect((await call(vault, 'GET', 'secret/data/elsewhere', { token })).status).toBe(403);
  });

  it('when a policy is malformed or protected, then 400; deleting and reading a missing one follows Vault', async () => {
    const bad = await call(vault, 'PUT', 'sys/policies/acl/bad', { body: { policy: '{"path": ' } });
    expect(bad.status).toBe(400);
    const caps = await call(vault, 'PUT', 'sys/policies/acl/bad', {
      body: { policy: { path: { x: { capabilities: ['fly'] } } } },
    });
    expect(caps.status).toBe(400);
    expect(
      (await call(vault, 'PUT', 'sys/policies/acl/root', { body: { policy: '{"path":{}}' } })).status,
    ).toBe(400);
    expect((await call(vault, 'DELETE', 'sys/policies/acl/default')).status).toBe(400);
    await call(vault, 'PUT', 'sys/policies/acl/temp', {
      body: { policy: { path: { a: { capabilities: ['read'] } } } },
    });
    expect((await call(vault, 'DELETE', 'sys/policies/acl/temp')).status).toBe(204);
    expect((await call(vault, 'GET', 'sys/policies/acl/temp')).body).toEqual({ errors: [] });
  });

  it('when a non-root token lists leases or revokes by prefix without sudo, then 403', async () => {
    const write = { path: { 'sys/leases/*': { capabilities: ['update', 'list'] } } };
    await call(vault, 'PUT', 'sys/policies/acl/leaser', { body: { policy: write } });
    const { token } = await createToken(vault, { policies: ['leaser'], ttl: '1h' });
    expect((await call(vault, 'PUT', 'sys/leases/revoke-prefix/database/', { token, body: {} })).status).toBe(
      403,
    );
    expect((await call(vault, 'GET', 'sys/leases/lookup/database/?list=true', { token })).status).toBe(403);
    const lookup = await call(vault, 'PUT', 'sys/leases/lookup', {
      token,
      body: { lease_id: 'database/creds/x/y' },
    });
    expect(lookup.body).toEqual({ errors: ['invalid lease'] });
  });
});
