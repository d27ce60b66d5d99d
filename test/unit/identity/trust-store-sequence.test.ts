import type { BundleSource } from '../../../server/identity/bundle-source';
import { createTrustStore } from '../../../server/identity/trust-store';
import { createMetrics } from '../../../server/shared/metrics';
import { captureLogger } from './support/capture-logger';
import { bundleJson, createJwtKey, type TestJwtKey } from './support/pki';

const TD = 'a.example';
const ROLLBACK_METRIC = 'grantline_trust_bundle_rollbacks_total';

function source(initial: string): BundleSource & { body: string } {
  return {
    location: 'memory://bundle',
    body: initial,
    async load() {
      return this.body;
    },
  };
}

/** A bundle whose `spiffe_sequence` is written verbatim (so values past 2^53 keep every digit). */
const withSequence = (key: TestJwtKey, sequence: string) =>
  bundleJson({ jwtKeys: [key] }).replace(/}$/, `,"spiffe_sequence":${sequence}}`);

/**
 * SPIFFE bundle format: `spiffe_sequence` increases with every update. A bundle whose sequence goes
 * backwards is a rollback (a replayed old bundle, perhaps with a key since removed): refuse it, keep the
 * last good one, log it and count it.
 */
describe('trust bundle sequence', () => {
  let oldKey: TestJwtKey;
  let newKey: TestJwtKey;

  beforeAll(async () => {
    oldKey = await createJwtKey('ES256', 'old');
    newKey = await createJwtKey('ES256', 'new');
  });

  function setup(body: string) {
    const metrics = createMetrics({ collectProcess: false });
    const log = captureLogger();
    const src = source(body);
    const store = createTrustStore({
      sources: [{ trustDomain: TD, source: src, required: true }],
      logger: log.logger,
      metrics,
    });
    const rollbacks = async () =>
      (await metrics.registry.getSingleMetric(ROLLBACK_METRIC)?.get())?.values.find(
        (v) => v.labels.trust_domain === TD,
      )?.value ?? 0;
    return { store, src, log, rollbacks };
  }

  it('when a refresh brings a lower sequence, then it is refused, the last good bundle kept, logged and counted', async () => {
    const { store, src, log, rollbacks } = setup(bundleJson({ jwtKeys: [newKey], sequence: 5 }));
    await store.start();
    src.body = bundleJson({ jwtKeys: [oldKey], sequence: 4 });
    expect(await store.refreshNow(TD)).toEqual([{ trustDomain: TD, ok: false }]);
    expect([...store.bundleFor(TD)!.jwtKeyIds]).toEqual(['new']);
    expect(await rollbacks()).toBe(1);
    expect(log.text()).toMatch(/sequence went backwards/);
    store.stop();
  });

  it('when a refresh brings a document without a sequence (a plain JWKS), then there is nothing to compare', async () => {
    const { store, src, rollbacks } = setup(bundleJson({ jwtKeys: [oldKey], sequence: 5 }));
    await store.start();
    src.body = bundleJson({ jwtKeys: [newKey] });
    expect((await store.refreshNow(TD))[0]!.ok).toBe(true);
    expect([...store.bundleFor(TD)!.jwtKeyIds]).toEqual(['new']);
    expect(await rollbacks()).toBe(0);
    store.stop();
  });

  it('when the sequence stays or grows, then the bundle is installed', async () => {
    const { store, src, rollbacks } = setup(bundleJson({ jwtKeys: [oldKey], sequence: 5 }));
    await store.start();
    src.body = bundleJson({ jwtKeys: [oldKey], sequence: 5 });
    expect((await store.refreshNow(TD))[0]!.ok).toBe(true);
    src.body = bundleJson({ jwtKeys: [newKey], sequence: 6 });
    expect((await store.refreshNow(TD))[0]!.ok).toBe(true);
    expect([...store.bundleFor(TD)!.jwtKeyIds]).toEqual(['new']);
    expect(await rollbacks()).toBe(0);
    store.stop();
  });

  it('when sequences are past 2^53, then they are compared exactly (parsed as 64-bit, not as doubles)', async () => {
    const { store, src, rollbacks } = setup(withSequence(newKey, '9007199254740995'));
    await store.start();
    src.body = withSequence(oldKey, '9007199254740994');
    expect((await store.refreshNow(TD))[0]!.ok).toBe(false);
    expect(await rollbacks()).toBe(1);
    expect(store.bundleFor(TD)!.sequence).toBe(9007199254740995n);
    store.stop();
  });
});
