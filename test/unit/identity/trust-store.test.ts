import type { BundleSource } from '../../../server/identity/bundle-source';
import { createTrustStore, type TrustDomainSource } from '../../../server/identity/trust-store';
import { createMetrics } from '../../../server/shared/metrics';
import { captureLogger } from './support/capture-logger';
import { bundleJson, createJwtKey, type TestJwtKey } from './support/pki';

/** A bundle source serving whatever the test sets, or failing when `failure` is set. */
function fakeSource(
  initial: string,
): BundleSource & { body: string; failure: Error | undefined; loads: number } {
  return {
    location: 'memory://bundle',
    body: initial,
    failure: undefined,
    loads: 0,
    async load() {
      this.loads += 1;
      if (this.failure) throw this.failure;
      return this.body;
    },
  };
}

const failureCount = async (metrics: ReturnType<typeof createMetrics>, td: string) => {
  const values = (
    await metrics.registry.getSingleMetric('grantline_trust_bundle_refresh_failures_total')!.get()
  ).values;
  return values.find((v) => v.labels.trust_domain === td)?.value ?? 0;
};

describe('createTrustStore', () => {
  let k1: TestJwtKey;
  let k2: TestJwtKey;

  beforeAll(async () => {
    k1 = await createJwtKey('ES256', 'k1');
    k2 = await createJwtKey('ES256', 'k2');
  });

  afterEach(() => jest.useRealTimers());

  function setup(sources: Array<Omit<TrustDomainSource, 'source'> & { source: BundleSource }>) {
    const metrics = createMetrics({ collectProcess: false });
    const log = captureLogger();
    const store = createTrustStore({ sources, logger: log.logger, metrics });
    return { store, metrics, log };
  }

  it('when started, then each trust domain has its own bundle and nothing is merged', async () => {
    const a = fakeSource(bundleJson({ jwtKeys: [k1] }));
    const b = fakeSource(bundleJson({ jwtKeys: [k2] }));
    const { store } = setup([
      { trustDomain: 'a.example', source: a, required: true },
      { trustDomain: 'b.example', source: b, required: false },
    ]);
    await store.start();
    expect([...store.bundleFor('a.example')!.jwtKeyIds]).toEqual(['k1']);
    expect([...store.bundleFor('b.example')!.jwtKeyIds]).toEqual(['k2']);
    expect(store.bundleFor('c.example')).toBeUndefined();
    store.stop();
  });

  it('when our own bundle cannot be loaded at start, then start fails', async () => {
    const a = fakeSource('not json');
    const { store } = setup([{ trustDomain: 'a.example', source: a, required: true }]);
    await expect(store.start()).rejects.toThrow(/not valid JSON/);
    store.stop();
  });

  it('when a federated bundle cannot be loaded at start, then start succeeds and its SVIDs have no bundle', async () => {
    const a = fakeSource(bundleJson({ jwtKeys: [k1] }));
    const b = fakeSource('');
    b.failure = new Error('connection refused');
    const { store, metrics } = setup([
      { trustDomain: 'a.example', source: a, required: true },
      { trustDomain: 'b.example', source: b, required: false },
    ]);
    await store.start();
    expect(store.bundleFor('b.example')).toBeUndefined();
    expect(await failureCount(metrics, 'b.example')).toBe(1);
    store.stop();
  });

  it('when a refresh fails, then the last good bundle is kept, a warning logged and the failure counted', async () => {
    const a = fakeSource(bundleJson({ jwtKeys: [k1] }));
    const { store, metrics, log } = setup([{ trustDomain: 'a.example', source: a, required: true }]);
    await store.start();
    a.failure = new Error('HTTP 503');
    expect(await store.refreshNow()).toEqual([{ trustDomain: 'a.example', ok: false }]);
    expect([...store.bundleFor('a.example')!.jwtKeyIds]).toEqual(['k1']);
    expect(await failureCount(metrics, 'a.example')).toBe(1);
    expect(
      log.lines().some((l) => l.level === 40 && String(l.msg).includes('keeping the last good bundle')),
    ).toBe(true);
    store.stop();
  });

  it('when the served bundle rotates, then a refresh replaces the keys', async () => {
    const a = fakeSource(bundleJson({ jwtKeys: [k1], sequence: 1 }));
    const { store } = setup([{ trustDomain: 'a.example', source: a, required: true }]);
    await store.start();
    a.body = bundleJson({ jwtKeys: [k2], sequence: 2 });
    expect(await store.refreshNow('a.example')).toEqual([{ trustDomain: 'a.example', ok: true }]);
    expect([...store.bundleFor('a.example')!.jwtKeyIds]).toEqual(['k2']);
    expect(store.bundleFor('a.example')!.sequence).toBe(2n);
    store.stop();
  });

  it('when the refresh hint passes, then the bundle is polled again; after stop, never', async () => {
    jest.useFakeTimers();
    const a = fakeSource(bundleJson({ jwtKeys: [k1], refreshHint: 60 }));
    const b = fakeSource(bundleJson({ jwtKeys: [k2], refreshHint: 60 }));
    const { store } = setup([
      { trustDomain: 'a.example', source: a, required: true },
      { trustDomain: 'b.example', source: b, required: false, refreshHintSeconds: 600 },
    ]);
    await store.start();
    expect(jest.getTimerCount()).toBe(2);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(a.loads).toBe(2);
    expect(b.loads).toBe(1); // the operator's 600 s overrides the bundle's 60 s hint
    store.stop();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(a.loads).toBe(2);
  });

  it('when a bundle asks for a zero refresh hint, then polling is clamped to 5 seconds', async () => {
    jest.useFakeTimers();
    const a = fakeSource(bundleJson({ jwtKeys: [k1], refreshHint: 0 }));
    const { store } = setup([{ trustDomain: 'a.example', source: a, required: true }]);
    await store.start();
    await jest.advanceTimersByTimeAsync(4_999);
    expect(a.loads).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(a.loads).toBe(2);
    store.stop();
  });
});
