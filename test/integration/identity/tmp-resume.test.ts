import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa, issueCert, issueIntermediate } from '../../unit/identity/support/pki';
import { createIdentityFixture } from './support/identity-fixture';

it('resume', async () => {
  const fx = await createIdentityFixture();
  const webCa = await createCa('server.test');
  const serverCert = await issueCert(webCa, { ips: ['127.0.0.1'], subject: 'CN=grantline.test' });
  const server = https.createServer(fx.identity.tlsServerOptions(serverCert.certPem, serverCert.keyPem), fx.app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const inter = await issueIntermediate(fx.ours.ca);
  const leaf = await issueCert(inter, { uris: ['spiffe://a.example/x'] });
  const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
  const get = () => new Promise<string>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/whoami', ca: webCa.pem, agent, cert: `${leaf.certPem}${inter.pem}`, key: leaf.keyPem }, (res) => {
      let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(`${res.statusCode} ${(res.socket as any)?.isSessionReused?.()} ${b}`));
    });
    req.on('error', reject); req.end();
  });
  for (let i = 0; i < 3; i++) console.log(await get());
  server.close(); await fx.close();
});
