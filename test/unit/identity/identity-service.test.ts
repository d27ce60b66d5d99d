import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mintDevJwtSvid } from '../../../server/dev/identity/dev-trust-domain';
import { createIdentityService, type IdentityConfig, IdentityConfigError } from '../../../server/identity';
import { systemClock } from '../../../server/shared/clock';
import { Unauthenticated } from '../../../server/shared/errors';
import { createMetrics } from '../../../server/shared/metrics';
import { startDevTrustDomain } from '../../../server/wiring/dev-defaults';
import { captureLogger } from './support/capture-logger';

const AUD = 'grantline';

describe('createIdentityService', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'grantline-identity-svc-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const devConfig = (): IdentityConfig => ({
    trustDomain: 'dev.grantline.local',
    audience: AUD,
    federation: [],
    maxSvidLifetimeSeconds: 3600,
    leewaySeconds: 30,
    devHome: home,
  });
  const build = (config: IdentityConfig) => {
    const log = captureLogger();
    const metrics = createMetrics({ collectProcess: false });
    const identity = createIdentityService({ config, logger: log.logger, metrics, clock: systemClock });
    return { identity, log, metrics };
  };

  it('when no bundle is configured but a dev home is, then it runs on the dev trust domain and warns loudly', async () => {
    const { identity, log } = build(devConfig());
    expect(identity.devMode).toBe(true);
    await startDevTrustDomain(home, systemClock, log.logger);
    await identity.start();
    const warning = log.lines().find((l) => String(l.msg).includes('DEV TRUST DOMAIN'));
    expect(warning?.level).toBe(40);
    expect(String(warning?.msg)).toContain('production');
    const token = await mintDevJwtSvid({
      home,
      spiffeId: 'spiffe://dev.grantline.local/agent/a',
      audience: AUD,
      ttlSeconds: 60,
    });
    await expect(identity.verifyJwtSvid(token)).resolves.toMatchObject({
      spiffeId: 'spiffe://dev.grantline.local/agent/a',
    });
    identity.stop();
  });

  it('when verifyJwtSvid rejects, then the failure is counted by reason with via=jwt-svid', async () => {
    const { identity, metrics, log } = build(devConfig());
    await startDevTrustDomain(home, systemClock, log.logger);
    await identity.start();
    const token = await mintDevJwtSvid({
      home,
      spiffeId: 'spiffe://dev.grantline.local/agent/a',
      audience: 'other',
      ttlSeconds: 60,
    });
    const err = await identity.verifyJwtSvid(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unauthenticated);
    const { values } = await metrics.authFailures.get();
    expect(values).toEqual([{ labels: { reason: 'wrong_audience', via: 'jwt-svid' }, value: 1 }]);
    identity.stop();
  });

  it('when our own bundle file does not exist, then start fails', async () => {
    const { identity } = build({
      ...devConfig(),
      devHome: undefined,
      trustDomain: 'a.example',
      bundle: { source: path.join(home, 'missing.json') },
    });
    await expect(identity.start()).rejects.toThrow(/ENOENT/);
  });

  it.each<[string, Partial<IdentityConfig>, RegExp]>([
    ['neither a bundle nor a dev home', { devHome: undefined }, /no trust bundle/],
    ['a production trust domain without a bundle', { trustDomain: 'prod.example' }, /without a trust bundle/],
    ['an invalid trust domain', { trustDomain: 'Prod.Example', bundle: { source: '/b.json' } }, /lowercase/],
    ['an empty audience', { audience: '' }, /audience/],
    ['a negative leeway', { leewaySeconds: -1 }, /leewaySeconds/],
    ['a fractional lifetime cap', { maxSvidLifetimeSeconds: 1.5 }, /maxSvidLifetimeSeconds/],
    [
      'federation with our own trust domain',
      { federation: [{ trustDomain: 'dev.grantline.local', source: '/b.json' }] },
      /twice/,
    ],
    [
      'the same federated trust domain twice',
      {
        federation: [
          { trustDomain: 'b.example', source: '/b.json' },
          { trustDomain: 'b.example', source: '/c.json' },
        ],
      },
      /twice/,
    ],
    [
      'a federated trust domain with a path',
      { federation: [{ trustDomain: 'spiffe://b.example/x', source: '/b.json' }] },
      /path/,
    ],
    [
      'a zero refresh hint',
      { federation: [{ trustDomain: 'b.example', source: '/b.json', refreshHintSeconds: 0 }] },
      /refreshHint/,
    ],
  ])('when the configuration has %s, then construction fails', (_case, overrides, message) => {
    expect(() => build({ ...devConfig(), ...overrides })).toThrow(IdentityConfigError);
    expect(() => build({ ...devConfig(), ...overrides })).toThrow(message);
  });
});
