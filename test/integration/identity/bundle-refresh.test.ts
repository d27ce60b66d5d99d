import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createIdentityService, IdentityConfigError, type IdentityService } from '../../../server/identity';
import { systemClock } from '../../../server/shared/clock';
import { createMetrics } from '../../../server/shared/metrics';
import { captureLogger } from '../../unit/identity/support/capture-logger';
import {
  bundleJson,
  createJwtKey,
  createTrustDomain,
  signJwt,
  svidClaims,
  type TestJwtKey,
  type TestTrustDomain,
  trustDomainBundle,
} from '../../unit/identity/support/pki';
import { AUDIENCE, whoamiApp } from './support/identity-fixture';

const FED_SUB = 'spiffe://b.example/agent/beta';

/** A bundle endpoint on loopback whose answer the test controls. */
function bundleEndpoint() {
  const state = { status: 200, body: '' };
  const server = http.createServer((_req, res) => {
    res.writeHead(state.status, { 'content-type': 'application/json' }).end(state.body);
  });
  return { state, server };
}

describe('federated bundle refresh from a bundle endpoint', () => {
  let dir: string;
  let ours: TestTrustDomain;
  let k1: TestJwtKey;
  let k2: TestJwtKey;
  let endpoint: ReturnType<typeof bundleEndpoint>;
  let url: string;
  let identity: IdentityService;

  const baseConfig = () => ({
    trustDomain: 'a.example',
    audience: AUDIENCE,
    bundle: { source: path.join(dir, 'a.json') },
    maxSvidLifetimeSeconds: 3600,
    leewaySeconds: 30,
  });
  const deps = () => ({
    logger: captureLogger().logger,
    metrics: createMetrics({ collectProcess: false }),
    clock: systemClock,
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grantline-refresh-'));
    ours = await createTrustDomain('a.example');
    await writeFile(path.join(dir, 'a.json'), trustDomainBundle(ours));
    k1 = await createJwtKey('ES256', 'k1');
    k2 = await createJwtKey('ES256', 'k2');
    endpoint = bundleEndpoint();
    endpoint.state.body = bundleJson({ jwtKeys: [k1], sequence: 1, refreshHint: 300 });
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}/bundle`;
    identity = createIdentityService({
      config: { ...baseConfig(), federation: [{ trustDomain: 'b.example', source: url }] },
      ...deps(),
      allowInsecureBundleUrls: true,
    });
    await identity.start();
  });

  afterAll(async () => {
    identity.stop();
    await new Promise((resolve) => endpoint.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const statusFor = async (key: TestJwtKey) => {
    const { app } = whoamiApp(identity);
    const res = await request(app)
      .get('/whoami')
      .set('Authorization', `Bearer ${await signJwt(key, svidClaims(FED_SUB, AUDIENCE))}`);
    return { status: res.status, reason: res.body.reason as string | undefined };
  };

  it('when the served bundle rotates and is refreshed, then new-key SVIDs pass and old-key SVIDs fail', async () => {
    expect(await statusFor(k1)).toEqual({ status: 200, reason: undefined });
    expect(await statusFor(k2)).toEqual({ status: 401, reason: 'unknown_kid' });

    endpoint.state.body = bundleJson({ jwtKeys: [k2], sequence: 2, refreshHint: 300 });
    expect(await identity.refreshNow('b.example')).toEqual([{ trustDomain: 'b.example', ok: true }]);

    expect(await statusFor(k2)).toEqual({ status: 200, reason: undefined });
    expect(await statusFor(k1)).toEqual({ status: 401, reason: 'unknown_kid' });
  });

  it('when the endpoint fails, then the last good bundle keeps working', async () => {
    endpoint.state.body = bundleJson({ jwtKeys: [k2], sequence: 3 });
    await identity.refreshNow('b.example');
    endpoint.state.status = 503;
    expect(await identity.refreshNow('b.example')).toEqual([{ trustDomain: 'b.example', ok: false }]);
    expect(await statusFor(k2)).toEqual({ status: 200, reason: undefined });
    endpoint.state.status = 200;
  });

  it('when the endpoint serves an empty bundle, then no SVID of that trust domain is valid', async () => {
    endpoint.state.body = JSON.stringify({ keys: [], spiffe_sequence: 4 });
    await identity.refreshNow('b.example');
    expect(await statusFor(k2)).toEqual({ status: 401, reason: 'unknown_kid' });
  });

  it('when the endpoint serves a plain OIDC JWKS (no use), then its keys are JWT-SVID keys', async () => {
    endpoint.state.body = JSON.stringify({ keys: [{ ...k1.publicJwk, kid: k1.kid, alg: 'ES256' }] });
    await identity.refreshNow('b.example');
    expect(await statusFor(k1)).toEqual({ status: 200, reason: undefined });
  });

  it('when a bundle URL is plain http without the test option, then the service refuses to start', () => {
    expect(() =>
      createIdentityService({
        config: { ...baseConfig(), federation: [{ trustDomain: 'b.example', source: url }] },
        ...deps(),
      }),
    ).toThrow(IdentityConfigError);
  });

  it('when the test option is set, then plain http is still refused for non-loopback hosts', () => {
    expect(() =>
      createIdentityService({
        config: {
          ...baseConfig(),
          federation: [{ trustDomain: 'b.example', source: 'http://bundles.example.com/b' }],
        },
        ...deps(),
        allowInsecureBundleUrls: true,
      }),
    ).toThrow(/must use https/);
  });
});
