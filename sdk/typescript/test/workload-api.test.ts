import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { initDevTrustDomain, issueDevX509Svid } from '../../../server/dev/identity/dev-trust-domain';
import { certificateThumbprint, createGrantlineClient, IdentityError, workloadApi } from '../src';
import { type FakeWorkloadApi, startFakeWorkloadApi } from './support/fake-workload-api';
import { AGENT_A, type LiveBroker, ORCHESTRATOR, startLiveBroker } from './support/live-broker';

const BROKER_ID = 'spiffe://dev.grantline.local/grantline';

/**
 * `workloadApi()` against a Workload API server that speaks the spec's gRPC (SPIRE itself in
 * `npm run test:real`): JWT-SVIDs the broker accepts, fetched again at half-life; the X509-SVID for mTLS,
 * followed as it rotates.
 */
describe('the SPIFFE Workload API identity source', () => {
  let home: string;
  let b: LiveBroker;
  let fake: FakeWorkloadApi;

  beforeAll(async () => {
    // Short: Unix socket paths are limited to 107 bytes.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-wl-'));
    fs.chmodSync(home, 0o755);
    await initDevTrustDomain(home);
    const broker = await issueDevX509Svid({ home, spiffeId: BROKER_ID, ttlSeconds: 600 });
    fs.writeFileSync(path.join(home, 'broker.crt'), broker.certPem);
    fs.writeFileSync(path.join(home, 'broker.key'), broker.keyPem, { mode: 0o600 });
    b = await startLiveBroker({
      home,
      env: {
        GRANTLINE_TLS_CERT: path.join(home, 'broker.crt'),
        GRANTLINE_TLS_KEY: path.join(home, 'broker.key'),
        GRANTLINE_TLS_PORT: '0',
      },
    });
    fake = await startFakeWorkloadApi({
      socketPath: path.join(home, 'agent.sock'),
      home,
      identities: [ORCHESTRATOR, AGENT_A],
      jwtTtlSeconds: 120,
    });
  });
  afterAll(async () => {
    await fake?.close();
    await b?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('when a client authenticates with Workload API JWT-SVIDs, then the broker accepts them and they are fetched again at half-life', async () => {
    let now = Date.now();
    const identity = workloadApi({ socket: fake.address, spiffeId: ORCHESTRATOR, now: () => now });
    const client = createGrantlineClient({ url: b.url, identity });
    try {
      const before = fake.jwtFetches;
      await client.tasks.list();
      await client.tasks.list();
      expect(fake.jwtFetches - before).toBe(1);
      now += 61_000; // past half of the 120 s life
      await client.tasks.list();
      expect(fake.jwtFetches - before).toBe(2);
      expect(await identity.spiffeId()).toBe(ORCHESTRATOR);
    } finally {
      identity.close();
      await client.close();
    }
  });

  test('when an agent calls over mTLS with the Workload API X509-SVID, then its tokens are bound to the certificate it holds now, rotation included', async () => {
    const taskId = await b.openTask();
    const identity = workloadApi({ socket: fake.address, spiffeId: AGENT_A });
    const agent = createGrantlineClient({
      url: b.t.broker.tlsUrl!,
      identity,
      mtls: true,
      tls: { serverSpiffeId: BROKER_ID },
    });
    const request = async () =>
      decodeJwt(
        (await agent.grants.request(taskId, { scopes: ['kv:demo/api-key'], audience: 'orders-api' }))
          .access_token,
      ).cnf;
    try {
      expect(await request()).toEqual({ 'x5t#S256': certificateThumbprint(fake.current(AGENT_A)) });
      const old = fake.current(AGENT_A);
      await fake.rotate();
      const rotated = fake.current(AGENT_A);
      expect(rotated.serialNumber).not.toBe(old.serialNumber);
      // The stream delivers the new SVID; the next connection presents it.
      const serial = async () => new X509Certificate((await identity.x509Svid()).certChainPem).serialNumber;
      for (let i = 0; i < 50 && (await serial()) !== rotated.serialNumber; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await serial()).toBe(rotated.serialNumber);
      expect(await request()).toEqual({ 'x5t#S256': certificateThumbprint(rotated) });
      expect((await identity.x509Svid()).expiresAt.getTime()).toBeGreaterThan(Date.now());
    } finally {
      identity.close();
      await agent.close();
    }
  });

  test('when the agent holds no such identity or there is no agent at all, then an IdentityError says so', async () => {
    const stranger = workloadApi({
      socket: fake.address,
      spiffeId: 'spiffe://dev.grantline.local/agent/nobody',
      attempts: 1,
    });
    await expect(stranger.jwtSvid('grantline')).rejects.toThrow(IdentityError);
    await expect(stranger.jwtSvid('grantline')).rejects.toThrow(/PERMISSION_DENIED|no identity issued/);
    stranger.close();
    const nowhere = workloadApi({
      socket: `unix://${path.join(home, 'missing.sock')}`,
      attempts: 1,
      timeoutMs: 1000,
    });
    await expect(nowhere.jwtSvid('grantline')).rejects.toThrow(IdentityError);
    await expect(nowhere.x509Svid()).rejects.toThrow(IdentityError);
    nowhere.close();
    const malformed = workloadApi({ socket: 'unix://host/agent.sock' });
    await expect(malformed.jwtSvid('grantline')).rejects.toThrow(/must not name a host/);
    malformed.close();
  });
});
