import { verifyEventInclusion } from '../../../console/src/lib/inclusion/inclusion-check';
import { AUDITOR, startTestBroker, type TestBroker } from '../../helpers/broker';
import { CookieJar, consoleApi, signInThroughProvider } from '../../helpers/console-client';
import { consoleEnv, startTestOidcProvider, type TestOidcProvider } from '../../helpers/oidc-provider';
import { openTask } from '../../helpers/scenario';

/**
 * Issue 16: the console hands a signed-in auditor what her browser needs to check an event's inclusion
 * itself, the latest signed checkpoint and an RFC 9162 inclusion proof, under the same policy as the
 * rest of the audit log (auditors only, each read on the record).
 */
describe('the console API for inclusion proofs', () => {
  let provider: TestOidcProvider;
  let t: TestBroker;
  let url: string;
  const alice = new CookieJar();
  const carol = new CookieJar();

  beforeAll(async () => {
    provider = await startTestOidcProvider();
    t = await startTestBroker({ env: consoleEnv(provider) });
    url = t.broker.url;
    await provider.registerClient('grantline-console', `${url}/console/auth/callback`);
    await signInThroughProvider(alice, url, 'alice');
    await signInThroughProvider(carol, url, 'carol');
  });
  afterAll(async () => {
    await t?.stop();
    await provider?.stop();
  });

  /** The audit-log reads by `who` that policy allowed (or denied) on the record. */
  const auditReads = async (who: string, type = 'decision.allow') => {
    const rows = await t.db.db
      .selectFrom('audit_events')
      .select('payload')
      .where('type', '=', type)
      .where('principal', '=', `${provider.issuer}#${who}`)
      .execute();
    return rows.filter((r) => (r.payload as { action?: string }).action === 'ReadAudit').length;
  };

  /** A checkpoint covering `leafIndex`, signed on demand through the SVID API. */
  const signedThrough = async (leafIndex: number) => {
    const cp = await t.call('POST', '/v1/audit/checkpoints', { as: AUDITOR, body: {} });
    expect(cp.status).toBe(201);
    expect(cp.body.tree_size).toBeGreaterThan(leafIndex);
  };

  test('when the auditor asks, then the checkpoint and the proof are the SVID API\u2019s, and they prove the event in her hands', async () => {
    const taskId = await openTask(t);
    const listed = await consoleApi(carol, url, 'GET', `/audit/events?task=${taskId}`);
    const event = listed.body.events.find((e: { type: string }) => e.type === 'task.opened');
    await signedThrough(event.leaf_index);

    const checkpoint = await consoleApi(carol, url, 'GET', '/audit/checkpoint');
    expect(checkpoint.status).toBe(200);
    expect(checkpoint.headers.get('cache-control')).toBe('no-store');
    const viaSvid = await t.call('GET', '/v1/audit/checkpoint', { as: AUDITOR });
    expect(viaSvid.body.tree_size).toBeGreaterThanOrEqual(checkpoint.body.tree_size);
    const size = checkpoint.body.tree_size;
    const proof = await consoleApi(
      carol,
      url,
      'GET',
      `/audit/events/${event.leaf_index}/proof?tree_size=${size}`,
    );
    expect(proof.status).toBe(200);
    const svidProof = await t.call('GET', `/v1/audit/events/${event.leaf_index}/proof?tree_size=${size}`, {
      as: AUDITOR,
    });
    expect(proof.body).toEqual(svidProof.body);

    const jwks = await fetch(`${url}/.well-known/jwks.json`).then(
      (r) => r.json() as Promise<{ keys: unknown[] }>,
    );
    const verdict = await verifyEventInclusion({
      event,
      checkpoint: checkpoint.body,
      jwks,
      proof: proof.body,
    });
    expect(verdict).toMatchObject({ ok: true, leafIndex: event.leaf_index, treeSize: size });
    const tampered = { ...event, principal: 'spiffe://someone-else' };
    expect(
      await verifyEventInclusion({ event: tampered, checkpoint: checkpoint.body, jwks, proof: proof.body }),
    ).toMatchObject({ ok: false, failed: 'root_mismatch' });
  });

  test('when an approver or nobody asks, then nothing is shown; each read is a decision on the record', async () => {
    await signedThrough(0);
    const refusedBefore = await auditReads('alice', 'decision.deny');
    expect((await consoleApi(alice, url, 'GET', '/audit/checkpoint')).status).toBe(403);
    expect((await consoleApi(alice, url, 'GET', '/audit/events/0/proof')).status).toBe(403);
    expect(await auditReads('alice', 'decision.deny')).toBe(refusedBefore + 2);
    const nobody = new CookieJar();
    expect((await consoleApi(nobody, url, 'GET', '/audit/checkpoint')).status).toBe(401);
    expect((await consoleApi(nobody, url, 'GET', '/audit/events/0/proof')).status).toBe(401);

    // Each allowed read is a policy decision on the record, carol's verified identity as its principal.
    const before = await auditReads('carol');
    expect((await consoleApi(carol, url, 'GET', '/audit/checkpoint')).status).toBe(200);
    expect((await consoleApi(carol, url, 'GET', '/audit/events/0/proof')).status).toBe(200);
    expect(await auditReads('carol')).toBe(before + 2);
  });

  test('when the leaf or the tree size is out of range, then a clear 4xx', async () => {
    await signedThrough(0);
    const size = (await consoleApi(carol, url, 'GET', '/audit/checkpoint')).body.tree_size;
    const cases: Array<[string, number, string]> = [
      [`/audit/events/${size}/proof?tree_size=${size}`, 400, 'invalid_request'],
      [`/audit/events/0/proof?tree_size=${size + 1000}`, 400, 'invalid_request'],
      ['/audit/events/0/proof?tree_size=0', 400, 'invalid_request'],
      ['/audit/events/0/proof?tree_size=1&extra=1', 400, 'invalid_request'],
      ['/audit/events/-1/proof', 404, 'not_found'],
      ['/audit/events/abc/proof', 404, 'not_found'],
    ];
    for (const [path, status, error] of cases) {
      const res = await consoleApi(carol, url, 'GET', path);
      expect([path, res.status, res.body.error]).toEqual([path, status, error]);
    }
  });
});
