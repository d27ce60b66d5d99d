import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  BrokerUnreachableError,
  createGrantlineClient,
  createResourceServer,
  createUsageMeter,
  devTrustDomain,
  IssuerMismatchError,
  type ResourceServer,
  requireGrantlineToken,
  type UsageCall,
  type UsageResult,
} from '../src';
import { AGENT_A, AGENT_B, AUDITOR, type LiveBroker, RESOURCE, startLiveBroker } from './support/live-broker';

const RESOURCE_URL = 'https://orders.example/api';
const KV = 'kv:demo/api-key';

/** A tool behind the kit's middleware: every request it lets through is a call reported to the broker. */
async function startTool(kit: ResourceServer) {
  const guard = requireGrantlineToken(kit, { scopes: [KV], meter: (req) => ({ tool: req.url ?? '' }) });
  const server = http.createServer((req, res) =>
    guard(req, res, () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    call: async (token: string) =>
      (await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } })).status,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('action metering in the resource-server kit', () => {
  let b: LiveBroker;
  let metered: ResourceServer;
  let onlyFeed: ResourceServer;
  const kit = (usage: false | { flushIntervalMs: number }) =>
    createResourceServer({
      broker: b.url,
      resource: RESOURCE_URL,
      identity: devTrustDomain({ spiffeId: RESOURCE, home: b.t.home }),
      usage,
    });

  beforeAll(async () => {
    b = await startLiveBroker();
    metered = await kit({ flushIntervalMs: 20 });
    // Another tool that reports nothing: it hears of the revocation from the feed alone.
    onlyFeed = await kit(false);
    await Promise.all([metered.feed!.ready(5000), onlyFeed.feed!.ready(5000)]);
  });
  afterAll(async () => {
    await metered?.close();
    await onlyFeed?.close();
    await b?.stop();
  });

  test('when a delegated grant\u2019s share of actions is spent through the kit, then the broker revokes it and every tool refuses it through the feed', async () => {
    const taskId = await b.openTask({
      limits: { max_grants: 10, max_active: 10, max_depth: 2, max_fanout: 2, budget: 10, max_actions: 100 },
    });
    const parent = await b.as(AGENT_A).grants.request(taskId, { scopes: [KV], audience: RESOURCE_URL });
    const offer = await b
      .as(AGENT_A)
      .grants.delegate(parent.grant_id, { to: AGENT_B, scopes: [KV], budget: 1, actions: 5 });
    const child = await b.as(AGENT_B).grants.redeem(offer.delegation_token);
    const tool = await startTool(metered);
    try {
      const when = (emitter: NodeJS.EventEmitter, event: string, has: (x: unknown) => boolean) =>
        new Promise<number>((resolve) =>
          emitter.on(event, (x: unknown) => {
            if (has(x)) resolve(performance.now());
          }),
        );
      const answered = when(metered.meter!, 'revoked', (ids) => (ids as string[]).includes(child.grant_id));
      const heard = when(
        onlyFeed.feed!,
        'revoked',
        (item) => (item as { jti: string }).jti === child.grant_id,
      );
      for (let i = 0; i < 5; i++) expect(await tool.call(child.access_token)).toBe(200);
      await metered.meter!.flush();
      const [revokedAt, heardAt] = await Promise.race([
        Promise.all([answered, heard]),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no revocation in 5 s')), 5000)),
      ]);
      console.log(
        `a spent share: the other tool heard of it on the feed ${(heardAt - revokedAt).toFixed(1)} ms after the broker's answer`,
      );
      await expect(onlyFeed.verify(child.access_token)).rejects.toMatchObject({
        reason: 'revoked',
        status: 401,
      });
      expect(await tool.call(child.access_token)).toBe(401);
      // The parent still has its own pool: it goes on.
      expect(await tool.call(parent.access_token)).toBe(200);
      const lineage = await b.as(AUDITOR).grants.lineage(child.grant_id);
      expect(lineage.subtree).toMatchObject({ status: 'revoked', actions: { reserved: 5, used: 5 } });
    } finally {
      await tool.close();
    }
  });

  test('when calls come in a burst, then they are reported in a few batches and all counted', async () => {
    const taskId = await b.openTask({
      limits: { max_grants: 10, max_active: 10, max_depth: 2, max_fanout: 2, budget: 10, max_actions: 1000 },
    });
    const g = await b.as(AGENT_A).grants.request(taskId, { scopes: [KV], audience: RESOURCE_URL });
    const reports: number[] = [];
    const client = b.as(RESOURCE);
    const meter = createUsageMeter(async (id, calls, o) => {
      reports.push(calls.length);
      return client.grants.reportUsage(id, calls, o);
    });
    for (let i = 0; i < 300; i++) meter.record(g.grant_id, { tool: 'count_orders' });
    await meter.close();
    expect(reports.reduce((a, n) => a + n, 0)).toBe(300);
    expect(reports.length).toBeLessThanOrEqual(2);
    expect((await b.as(AUDITOR).grants.lineage(g.grant_id)).subtree.actions.used).toBe(300);
  });

  test('when a report gets no answer, then it is sent again with the same report id (counted once)', async () => {
    const sent: Array<{ id: string; calls: number }> = [];
    let fail = true;
    const meter = createUsageMeter(
      async (grantId, calls: UsageCall[], o) => {
        sent.push({ id: o.reportId, calls: calls.length });
        if (fail) {
          fail = false;
          throw new BrokerUnreachableError('http://broker.test', new Error('reset'));
        }
        return { grant_id: grantId, report_id: o.reportId, revoked: [] } as unknown as UsageResult;
      },
      { flushIntervalMs: 60_000 },
    );
    meter.record('g-1');
    meter.record('g-1');
    await meter.flush();
    meter.record('g-1');
    await meter.flush();
    await meter.close();
    expect(sent[0]).toEqual({ id: sent[1]!.id, calls: 2 });
    expect(sent[2]).toMatchObject({ calls: 1 });
    expect(sent[2]!.id).not.toBe(sent[0]!.id);
  });

  test('when the client knows the issuer, then a grant answer must name it (RFC 9207)', async () => {
    const taskId = await b.openTask();
    const identity = devTrustDomain({ spiffeId: AGENT_A, home: b.t.home });
    const right = createGrantlineClient({ url: b.url, identity, issuer: b.url });
    const wrong = createGrantlineClient({ url: b.url, identity, issuer: 'https://other-as.example' });
    try {
      expect((await right.grants.request(taskId, { scopes: [KV], audience: RESOURCE_URL })).iss).toBe(b.url);
      const mixedUp = await wrong.grants
        .request(taskId, { scopes: [KV], audience: RESOURCE_URL })
        .catch((e) => e);
      expect(mixedUp).toBeInstanceOf(IssuerMismatchError);
      expect(mixedUp).toMatchObject({ expected: 'https://other-as.example', received: b.url });
      const refused = await wrong.grants
        .request(taskId, { scopes: [KV], audience: 'nowhere' })
        .catch((e) => e);
      expect(refused).toBeInstanceOf(IssuerMismatchError);
    } finally {
      await right.close();
      await wrong.close();
    }
  });
});
