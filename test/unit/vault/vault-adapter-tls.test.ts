import { KeyObject, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { x509 } from '../../../server/identity/x509-lib';
import { createLogger } from '../../../server/shared/logger';
import { createVaultAdapter, VaultUnavailable } from '../../../server/vault';

const logger = createLogger({ level: 'silent' });
const HEALTH = { initialized: true, sealed: false, standby: false, version: '1.17.0' };

async function selfSignedCert(): Promise<{ certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=vault.test',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      new x509.BasicConstraintsExtension(true, undefined, true),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem: cert.toString('pem'), keyPem };
}

describe('vault adapter: TLS', () => {
  let server: Server;
  let addr: string;
  let certPem: string;

  beforeAll(async () => {
    const tls = await selfSignedCert();
    certPem = tls.certPem;
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(HEALTH));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    addr = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('when the CA is configured, then the server certificate is verified against it', async () => {
    const vault = createVaultAdapter(
      { addr, token: 'hvs.T', timeoutMs: 2000, tls: { ca: certPem } },
      { logger },
    );
    await expect(vault.health()).resolves.toEqual(HEALTH);
  });

  it('when VAULT_SKIP_VERIFY is set in the environment but not in config, then verification stays on', async () => {
    const saved = process.env.VAULT_SKIP_VERIFY;
    process.env.VAULT_SKIP_VERIFY = 'false';
    try {
      const vault = createVaultAdapter({ addr, token: 'hvs.T', timeoutMs: 2000, retries: 0 }, { logger });
      const err = await vault.health().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultUnavailable);
      expect((err as VaultUnavailable).details?.reason).toMatch(/CERT|SELF_SIGNED/);
    } finally {
      if (saved === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = saved;
    }
  });

  it('when skipVerify is configured explicitly, then an unverified certificate is accepted', async () => {
    const vault = createVaultAdapter(
      { addr, token: 'hvs.T', timeoutMs: 2000, tls: { skipVerify: true } },
      { logger },
    );
    await expect(vault.health()).resolves.toEqual(HEALTH);
  });
});
