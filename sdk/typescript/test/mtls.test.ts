import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { initDevTrustDomain, issueDevX509Svid } from '../../../server/dev/identity/dev-trust-domain';
import {
  BrokerUnreachableError,
  certificateThumbprint,
  createGrantlineClient,
  createResourceServer,
  devTrustDomain,
  type GrantlineClient,
  type ResourceServer,
  svidFiles,
} from '../src';
import { AGENT_A, AGENT_B, type LiveBroker, RESOURCE, startLiveBroker } from './support/live-broker';

const BROKER_ID = 'spiffe://dev.grantline.local/grantline';
const RESOURCE_URL = 'https://orders.example/api';

describe('mTLS with an X509-SVID, and certificate-bound tokens', () => {
  let home: string;
  let b: LiveBroker;
  let rs: ResourceServer;
  let agent: GrantlineClient;
  const files = (name: string) => ({
    cert: path.join(home, `${name}.crt`),
    key: path.join(home, `${name}.key`),
    bundle: path.join(home, 'bundle.pem'),
  });
  const writeSvid = async (name: string, spiffeId: string) => {
    const svid = await issueDevX509Svid({ home, spiffeId, ttlSeconds: 600 });
    const f = files(name);
    fs.writeFileSync(f.cert, svid.certPem);
    fs.writeFileSync(f.key, svid.keyPem, { mode: 0o600 });
    fs.writeFileSync(f.bundle, svid.bundlePem);
    return new X509Certificate(svid.certPem);
  };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-sdk-mtls-'));
    fs.chmodSync(home, 0o755);
    await initDevTrustDomain(home);
    await writeSvid('broker', BROKER_ID);
    await writeSvid('agent-a', AGENT_A);
    b = await startLiveBroker({
      home,
      env: {
        GRANTLINE_TLS_CERT: files('broker').cert,
        GRANTLINE_TLS_KEY: files('broker').key,
        GRANTLINE_TLS_PORT: '0',
      },
    });
    agent = createGrantlineClient({
      url: b.t.broker.tlsUrl!,
      identity: svidFiles(files('agent-a')),
      mtls: true,
      tls: { serverSpiffeId: BROKER_ID },
    });
    rs = await createResourceServer({
      broker: b.url,
      resource: RESOURCE_URL,
      identity: devTrustDomain({ spiffeId: RESOURCE, home }),
    });
    await rs.feed!.ready(5000);
  });
  afterAll(async () => {
    await agent?.close();
    await rs?.close();
    await b?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('when an agent calls over mTLS, then its token is bound to its certificate and the kit accepts it only with that certificate', async () => {
    const taskId = await b.openTask();
    const grant = await agent.grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: RESOURCE_URL });
    const cert = new X509Certificate(fs.readFileSync(files('agent-a').cert));
    expect(decodeJwt(grant.access_token).cnf).toEqual({ 'x5t#S256': certificateThumbprint(cert) });
    expect((await rs.verify(grant.access_token, { clientCertificate: cert })).certThumbprint).toBe(
      certificateThumbprint(cert),
    );
    const other = await writeSvid('agent-b', AGENT_B);
    await expect(rs.verify(grant.access_token, { clientCertificate: other })).rejects.toMatchObject({
      reason: 'cnf_mismatch',
      status: 401,
    });
    await expect(rs.verify(grant.access_token)).rejects.toMatchObject({ reason: 'cnf_mismatch' });
  });

  test('when the X509-SVID on disk rotates, then the next call presents the new certificate', async () => {
    const taskId = await b.openTask();
    const before = await agent.grants.request(taskId, {
      scopes: ['kv:demo/api-key'],
      audience: RESOURCE_URL,
    });
    const rotated = await writeSvid('agent-a', AGENT_A);
    const after = await agent.grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: RESOURCE_URL });
    expect(decodeJwt(after.access_token).cnf).toEqual({ 'x5t#S256': certificateThumbprint(rotated) });
    expect(decodeJwt(after.access_token).cnf).not.toEqual(decodeJwt(before.access_token).cnf);
  });

  test('when the broker is not the SPIFFE ID the client expects, then the call fails before anything is sent', async () => {
    const wary = createGrantlineClient({
      url: b.t.broker.tlsUrl!,
      identity: svidFiles(files('agent-a')),
      mtls: true,
      tls: { serverSpiffeId: 'spiffe://dev.grantline.local/impostor' },
      retry: { attempts: 1 },
    });
    try {
      const err = await wary.tasks.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerUnreachableError);
      expect((err as Error).message).toMatch(
        /the broker is spiffe:\/\/dev.grantline.local\/grantline, expected .*impostor/,
      );
    } finally {
      await wary.close();
    }
  });
});
