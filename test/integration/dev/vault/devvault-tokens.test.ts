import type { DevVault } from '../../../../server/dev/vault';
import type { ManualClock } from '../../../../server/shared/clock';
import { authOf, call, createToken, dataOf, startManualVault, writePolicy } from './devvault-harness';

describe('dev vault tokens', () => {
  let vault: DevVault;
  let clock: ManualClock;

  beforeEach(async () => {
    ({ vault, clock } = await startManualVault());
    await writePolicy(vault, 'task', { 'database/creds/*': ['read'], 'auth/token/create': ['update'] });
  });
  afterEach(async () => {
    await vault.close();
  });

  it('when a token is created, then auth carries client_token, a 24-char accessor and the TTL', async () => {
    const { reply } = await createToken(vault, {
      policies: ['task'],
      ttl: '10m',
      meta: { task: 't1' },
      display_name: 'broker',
      num_uses: 0,
    });
    const auth = authOf(reply);
    expect(auth.client_token).toMatch(/^s\.[A-Za-z0-9]{24}$/);
    expect(auth.accessor).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(auth).toMatchObject({
      policies: ['default', 'task'],
      token_policies: ['default', 'task'],
      metadata: { task: 't1' },
      lease_duration: 600,
      renewable: true,
      token_type: 'service',
      orphan: false,
    });
    expect(reply.body!.data).toBeNull();
    const lookup = await call(vault, 'POST', 'auth/token/lookup', { body: { token: auth.client_token } });
    expect(dataOf(lookup)).toMatchObject({ display_name: 'token-broker', ttl: 600, meta: { task: 't1' } });
  });

  it('when a child asks for policies its parent lacks, then 400 child policies must be subset of parent', async () => {
    const parent = await createToken(vault, { policies: ['task'], ttl: '1h' });
    const r = await call(vault, 'POST', 'auth/token/create', {
      token: parent.token,
      body: { policies: ['task', 'admin'] },
    });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: ['child policies must be subset of parent'] });
    const child = await call(vault, 'POST', 'auth/token/create', {
      token: parent.token,
      body: { policies: ['task'] },
    });
    expect(child.status).toBe(200);
    expect(authOf(child).policies).toEqual(['default', 'task']);
  });

  it('when a non-root token asks for no_parent, then 400; create-orphan makes an orphan', async () => {
    await writePolicy(vault, 'maker', { 'auth/token/create*': ['update'] });
    const maker = await createToken(vault, { policies: ['maker'], ttl: '1h' });
    const r = await call(vault, 'POST', 'auth/token/create', {
      token: maker.token,
      body: { no_parent: true },
    });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: ['root or sudo privileges required to create orphan token'] });
    const orphan = await call(vault, 'POST', 'auth/token/create-orphan', {
      token: maker.token,
      body: { ttl: '1h' },
    });
    expect(authOf(orphan).orphan).toBe(true);
  });

  it('when explicit_max_ttl is below the TTL, then the TTL is capped with the warning', async () => {
    const { reply } = await createToken(vault, { ttl: '1h', explicit_max_ttl: '10m', policies: ['task'] });
    expect(authOf(reply).lease_duration).toBe(600);
    expect(reply.body!.warnings).toEqual([
      'TTL of "1h" exceeded the effective max_ttl of "10m"; TTL value is capped accordingly',
    ]);
  });

  it('when a token is renewed past its max, then the TTL is capped with the exact warning', async () => {
    const { token } = await createToken(vault, { ttl: '5m', explicit_max_ttl: '10m', policies: ['task'] });
    clock.advance(60_000);
    const r = await call(vault, 'POST', 'auth/token/renew-self', { token, body: { increment: '1h' } });
    expect(r.status).toBe(200);
    expect(authOf(r).lease_duration).toBe(540);
    expect(r.body!.warnings).toEqual([
      'TTL of "1h" exceeded the effective max_ttl of "9m"; TTL value is capped accordingly',
    ]);
    const lookup = await call(vault, 'GET', 'auth/token/lookup-self', { token });
    expect(dataOf(lookup)).toMatchObject({ ttl: 540, last_renewal_time: expect.any(Number) });
  });

  it('when renewing an unknown or non-renewable token, then 400 with the spec messages', async () => {
    const unknown = await call(vault, 'POST', 'auth/token/renew', { body: { token: 'hvs.unknown' } });
    expect(unknown.body).toEqual({ errors: ['token not found'] });
    const fixed = await createToken(vault, { ttl: '1h', renewable: false, policies: ['task'] });
    const r = await call(vault, 'POST', 'auth/token/renew', { body: { token: fixed.token } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: ['lease is not renewable'] });
  });

  it('when a parent is revoked, then its whole subtree is gone and revoking again is still 204', async () => {
    const parent = await createToken(vault, { policies: ['task'], ttl: '1h' });
    const child = await createToken(vault, { policies: ['task'], ttl: '1h' }, parent.token);
    const grandchild = await createToken(vault, { policies: ['task'] }, child.token);
    const r = await call(vault, 'POST', 'auth/token/revoke', { body: { token: parent.token } });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    for (const t of [parent, child, grandchild]) {
      const lookup = await call(vault, 'POST', 'auth/token/lookup', { body: { token: t.token } });
      expect(lookup.status).toBe(403);
      expect(lookup.body).toEqual({ errors: ['bad token'] });
    }
    expect((await call(vault, 'POST', 'auth/token/revoke', { body: { token: parent.token } })).status).toBe(
      204,
    );
  });

  it('when revoke-orphan is used, then the children survive as orphans', async () => {
    const parent = await createToken(vault, { policies: ['task'], ttl: '1h' });
    const child = await createToken(vault, { policies: ['task'], ttl: '1h' }, parent.token);
    expect(
      (await call(vault, 'POST', 'auth/token/revoke-orphan', { body: { token: parent.token } })).status,
    ).toBe(204);
    const lookup = await call(vault, 'POST', 'auth/token/lookup', { body: { token: child.token } });
    expect(dataOf(lookup).orphan).toBe(true);
    const again = await call(vault, 'POST', 'auth/token/revoke-orphan', { body: { token: parent.token } });
    expect(again.body).toEqual({ errors: ['token to revoke not found'] });
    const noSudo = await call(vault, 'POST', 'auth/token/revoke-orphan', {
      token: child.token,
      body: { token: child.token },
    });
    expect(noSudo.status).toBe(403);
  });

  it('when accessors are used, then lookup hides the id and unknown accessors answer as the spec says', async () => {
    const t = await createToken(vault, { policies: ['task'], ttl: '1h' });
    const lookup = await call(vault, 'POST', 'auth/token/lookup-accessor', {
      body: { accessor: t.accessor },
    });
    expect(dataOf(lookup)).toMatchObject({ id: '', accessor: t.accessor });
    const bad = await call(vault, 'POST', 'auth/token/lookup-accessor', {
      body: { accessor: 'x'.repeat(24) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ errors: ['1 error occurred:\n\t* invalid accessor\n\n'] });
    expect(
      (await call(vault, 'POST', 'auth/token/revoke-accessor', { body: { accessor: t.accessor } })).status,
    ).toBe(204);
    const gone = await call(vault, 'POST', 'auth/token/revoke-accessor', { body: { accessor: t.accessor } });
    expect(gone.status).toBe(200);
    expect(gone.body!.warnings).toEqual(['No token found with this accessor']);
  });

  it('when the default policy is all a token has, then it may look up, renew and revoke itself only', async () => {
    const t = await createToken(vault, { policies: ['default'], ttl: '1h' });
    expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(200);
    expect((await call(vault, 'POST', 'auth/token/renew-self', { token: t.token, body: {} })).status).toBe(
      200,
    );
    expect((await call(vault, 'POST', 'auth/token/create', { token: t.token, body: {} })).status).toBe(403);
    expect((await call(vault, 'POST', 'auth/token/revoke-self', { token: t.token })).status).toBe(204);
    expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(403);
  });

  it('when a token has num_uses, then it works that many times and is revoked after the last', async () => {
    const t = await createToken(vault, { policies: ['task'], ttl: '1h', num_uses: 2 });
    expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(200);
    expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(200);
    expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(403);
  });

  it('when a parent expires, then its child dies with it even though the child TTL is longer', async () => {
    const parent = await createToken(vault, { policies: ['task'], ttl: '1m' });
    const child = await createToken(vault, { policies: ['task'], ttl: '1h' }, parent.token);
    clock.advance(61_000);
    await vault.tick();
    for (const t of [parent, child]) {
      expect((await call(vault, 'GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(403);
    }
  });

  it('when a root-policy token is created without a TTL, then it never expires and is not renewable', async () => {
    const { reply } = await createToken(vault, {});
    expect(authOf(reply)).toMatchObject({ policies: ['root'], lease_duration: 0, renewable: false });
  });
});
