import net from 'node:net';
import type { DevVault } from '../../../../server/dev/vault';
import { authOf, call, createToken, dataOf, startManualVault, writePolicy } from './devvault-harness';

const ENVELOPE_KEYS = [
  'auth',
  'data',
  'lease_duration',
  'lease_id',
  'renewable',
  'request_id',
  'warnings',
  'wrap_info',
];

/** Sends a raw request line, for verbs fetch will not send (LIST). */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let out = '';
    socket.on('data', (d) => {
      out += String(d);
    });
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('dev vault HTTP conventions', () => {
  let vault: DevVault;

  beforeAll(async () => {
    ({ vault } = await startManualVault());
  });
  afterAll(async () => {
    await vault.close();
  });

  it('when a call succeeds, then the body is the eight-key envelope', async () => {
    const r = await call(vault, 'GET', 'auth/token/lookup-self');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body!).sort()).toEqual(ENVELOPE_KEYS);
    expect(r.body).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      auth: null,
    });
    expect(dataOf(r)).toMatchObject({
      policies: ['root'],
      path: 'auth/token/create',
      expire_time: null,
      ttl: 0,
    });
  });

  it('when the token is missing or unknown, then 403 permission denied', async () => {
    for (const token of [null, 'hvs.nope']) {
      const r = await call(vault, 'GET', 'auth/token/lookup-self', { token });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    }
  });

  it('when the token comes as a Bearer header, then it authenticates', async () => {
    const res = await fetch(`${vault.url}/v1/auth/token/lookup-self`, {
      headers: { Authorization: `Bearer ${vault.rootToken}` },
    });
    expect(res.status).toBe(200);
  });

  it('when the method is wrong, then 405 with an errors body', async () => {
    const r = await call(vault, 'DELETE', 'auth/token/create');
    expect(r.status).toBe(405);
    expect(r.body).toEqual({ errors: ['unsupported operation'] });
    expect((await call(vault, 'PATCH', 'auth/token/create', { body: {} })).status).toBe(405);
  });

  it('when the JSON body is malformed, then 400', async () => {
    const r = await call(vault, 'POST', 'auth/token/create', { rawBody: '{"ttl": ' });
    expect(r.status).toBe(400);
    expect((r.body!.errors as string[])[0]).toContain('failed to parse JSON input');
  });

  it('when PUT is used instead of POST, then it does the same thing', async () => {
    const r = await call(vault, 'PUT', 'auth/token/create', { body: { ttl: '1h', policies: ['a'] } });
    expect(r.status).toBe(200);
    expect(authOf(r)).toMatchObject({ lease_duration: 3600, policies: ['a', 'default'], renewable: true });
  });

  it('when the path is unknown, then 404 for root and 403 for anyone else', async () => {
    const root = await call(vault, 'GET', 'nowhere/at/all');
    expect(root.status).toBe(404);
    expect(root.body).toEqual({ errors: ['no handler for route "nowhere/at/all". route entry not found.'] });
    const { token } = await createToken(vault, { policies: ['nothing'] });
    const other = await call(vault, 'GET', 'nowhere/at/all', { token });
    expect(other.status).toBe(403);
  });

  it('when the URL is not under /v1/, then 404 with an empty errors list', async () => {
    const res = await fetch(`${vault.url}/v2/sys/health`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: [] });
  });

  it('when listing, then GET ?list=true works and the LIST verb is refused by the HTTP parser', async () => {
    await writePolicy(vault, 'listed', { 'secret/*': ['read'] });
    const r = await call(vault, 'GET', 'sys/policies/acl?list=true');
    expect(r.status).toBe(200);
    expect(dataOf(r).keys).toEqual(expect.arrayContaining(['default', 'listed', 'root']));
    const reply = await rawRequest(
      vault.port,
      'LIST /v1/sys/policies/acl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(reply.startsWith('HTTP/1.1 400')).toBe(true);
  });

  it('when the body has unknown parameters, then 200 with the ignored-parameters warning', async () => {
    await writePolicy(vault, 'warned', { 'secret/*': ['read'] });
    const r = await call(vault, 'PUT', 'sys/policies/acl/warned', {
      body: { policy: '{"path":{"secret/*":{"capabilities":["read"]}}}', bogus: 1, alpha: 2 },
    });
    expect(r.status).toBe(200);
    expect(r.body!.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [alpha bogus]']);
  });

  it('when sys/mounts is read, then the fixed mounts appear in data and at the top level', async () => {
    const r = await call(vault, 'GET', 'sys/mounts');
    expect(r.status).toBe(200);
    expect(dataOf(r)['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(r.body!['database/']).toMatchObject({ type: 'database' });
    expect(Object.keys(dataOf(r)).sort()).toEqual([
      'cubbyhole/',
      'database/',
      'identity/',
      'secret/',
      'sys/',
    ]);
    const auth = await call(vault, 'GET', 'sys/auth');
    expect(dataOf(auth)['token/']).toMatchObject({ type: 'token' });
  });
});

describe('dev vault sys/health, seal and restart', () => {
  let vault: DevVault;

  beforeEach(async () => {
    ({ vault } = await startManualVault());
  });
  afterEach(async () => {
    await vault.close();
  });

  it('when healthy, then GET answers an unwrapped body and HEAD only the status', async () => {
    const r = await call(vault, 'GET', 'sys/health', { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(r.body).not.toHaveProperty('request_id');
    const head = await fetch(`${vault.url}/v1/sys/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await call(vault, 'GET', 'sys/health?activecode=299', { token: null })).status).toBe(299);
    expect((await call(vault, 'GET', 'sys/health?sealedcode=abc', { token: null })).status).toBe(400);
    expect((await call(vault, 'POST', 'sys/health', { body: {} })).status).toBe(405);
  });

  it('when sealed, then every API call is 503 Vault is sealed and health says sealed', async () => {
    vault.setSealed(true);
    const r = await call(vault, 'GET', 'auth/token/lookup-self');
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ errors: ['Vault is sealed'] });
    const health = await call(vault, 'GET', 'sys/health', { token: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ sealed: true });
    expect((await call(vault, 'GET', 'sys/health?sealedcode=200', { token: null })).status).toBe(200);
    vault.setSealed(false);
    expect((await call(vault, 'GET', 'auth/token/lookup-self')).status).toBe(200);
  });

  it('when stopped and started again, then the same port answers with the same state', async () => {
    const { token } = await createToken(vault, { ttl: '1h' });
    const url = vault.url;
    await vault.stop();
    await expect(fetch(`${url}/v1/sys/health`)).rejects.toThrow();
    await vault.start();
    expect(vault.url).toBe(url);
    const r = await call(vault, 'GET', 'auth/token/lookup-self', { token });
    expect(r.status).toBe(200);
  });
});
