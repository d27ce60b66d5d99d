import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { x509 } from '../../../server/identity/x509-lib';
import {
  createCa,
  issueCert,
  issueIntermediate,
  signJwt,
  svidClaims,
  type TestCa,
} from '../../unit/identity/support/pki';
import {
  AUDIENCE,
  authFailureCount,
  createIdentityFixture,
  type IdentityFixture,
} from './support/identity-fixture';

const ID = 'spiffe://a.example/agent/alpha';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

describe('authenticate middleware with X509-SVIDs over a real mTLS listener', () => {
  let fx: IdentityFixture;
  let server: https.Server;
  let port: number;
  let webCa: TestCa;

  beforeAll(async () => {
    fx = await createIdentityFixture();
    // The broker's own server certificate comes from a separate (Web PKI-like) CA the client trusts.
    webCa = await createCa('server.test');
    const serverCert = await issueCert(webCa, { ips: ['127.0.0.1'], subject: 'CN=grantline.test' });
    server = https.createServer(fx.identity.tlsServerOptions(serverCert.certPem, serverCert.keyPem), fx.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await fx.close();
  });

  function get(
    client: { certPem?: string; keyPem?: string; bearer?: string },
    agent: https.Agent | false = false,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/whoami',
          method: 'GET',
          ca: webCa.pem,
          agent,
          ...(client.certPem ? { cert: client.certPem, key: client.keyPem } : {}),
          headers: client.bearer ? { authorization: `Bearer ${client.bearer}` } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              headers: res.headers,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('when the client presents a valid X509-SVID of our trust domain, then it is the principal with its x5t#S256', async () => {
    const leaf = await issueCert(fx.ours.ca, { uris: [ID] });
    const res = await get(leaf);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      spiffeId: ID,
      trustDomain: 'a.example',
      path: '/agent/alpha',
      via: 'x509-svid',
      certThumbprint: createHash('sha256').update(new X509Certificate(leaf.certPem).raw).digest('base64url'),
    });
  });

  describe('when the SVID is issued by an intermediate CA the client sends along', () => {
    let chainPem: { certPem: string; keyPem: string };

    beforeAll(async () => {
      const intermediate = await issueIntermediate(fx.ours.ca);
      const leaf = await issueCert(intermediate, { uris: [ID] });
      chainPem = { certPem: `${leaf.certPem}\n${intermediate.pem}\n`, keyPem: leaf.keyPem };
    });

    it('then it is accepted', async () => {
      expect((await get(chainPem)).status).toBe(200);
    });

    it('then every request of a keep-alive connection is accepted (the chain is read once per socket)', async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      const statuses = [(await get(chainPem, agent)).status, (await get(chainPem, agent)).status];
      agent.destroy();
      expect(statuses).toEqual([200, 200]);
    });

    it('then a reconnecting client that caches TLS sessions is still accepted (no resumption)', async () => {
      const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
      const statuses = [(await get(chainPem, agent)).status, (await get(chainPem, agent)).status];
      agent.destroy();
      expect(statuses).toEqual([200, 200]);
    });
  });

  it('when the client presents an X509-SVID of the federated trust domain, then it is accepted', async () => {
    const leaf = await issueCert(fx.federated.ca, { uris: ['spiffe://b.example/agent/beta'] });
    const res = await get(leaf);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ spiffeId: 'spiffe://b.example/agent/beta', via: 'x509-svid' });
  });

  it('when there is no client certificate but a valid Bearer JWT-SVID, then the JWT-SVID authenticates', async () => {
    const bearer = await signJwt(fx.ours.jwtKey, svidClaims(ID, AUDIENCE));
    const res = await get({ bearer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ spiffeId: ID, via: 'jwt-svid' });
  });

  it.each<[string, string, (fx: IdentityFixture) => Promise<{ certPem: string; keyPem: string }>]>([
    ['a CA certificate as leaf', 'cert_leaf_is_ca', (f) => issueCert(f.ours.ca, { uris: [ID], ca: true })],
    [
      'two URI SANs',
      'cert_multiple_uri_sans',
      (f) => issueCert(f.ours.ca, { uris: [ID, 'spiffe://a.example/agent/other'] }),
    ],
    [
      "a chain from the other trust domain's CA for an ID in ours",
      'cert_untrusted_chain',
      (f) => issueCert(f.federated.ca, { uris: [ID] }),
    ],
    [
      'a key usage allowing certificate signing',
      'cert_key_usage',
      (f) =>
        issueCert(f.ours.ca, {
          uris: [ID],
          keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
        }),
    ],
    ['no SPIFFE ID', 'cert_no_uri_san', (f) => issueCert(f.ours.ca, { dns: ['agent.local'] })],
    [
      'an expired certificate',
      'cert_expired',
      (f) =>
        issueCert(f.ours.ca, {
          uris: [ID],
          notBefore: new Date(Date.now() - 7_200_000),
          notAfter: new Date(Date.now() - 3_600_000),
        }),
    ],
    [
      'a self-signed certificate',
      'cert_untrusted_chain',
      async () => issueCert(await createCa('a.example'), { uris: [ID] }),
    ],
  ])(
    'when the client certificate has %s, then 401 %s and the handler never runs',
    async (_case, reason, make) => {
      const before = fx.handlerRuns();
      const res = await get(await make(fx));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: expect.any(String), reason });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(fx.handlerRuns()).toBe(before);
      expect(await authFailureCount(fx.metrics, reason, 'x509-svid')).toBeGreaterThan(0);
    },
  );

  it('when there is neither a client certificate nor a Bearer token, then 401 missing_credential', async () => {
    const before = fx.handlerRuns();
    const res = await get({});
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('missing_credential');
    expect(fx.handlerRuns()).toBe(before);
  });

  it('when an invalid client certificate comes with a valid Bearer token, then the certificate decides (401)', async () => {
    const leaf = await issueCert(fx.federated.ca, { uris: [ID] });
    const bearer = await signJwt(fx.ours.jwtKey, svidClaims(ID, AUDIENCE));
    const res = await get({ ...leaf, bearer });
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('cert_untrusted_chain');
  });
});
