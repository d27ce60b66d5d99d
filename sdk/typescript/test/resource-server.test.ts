import { performance } from 'node:perf_hooks';
import { errors, jwtVerify } from 'jose';
import {
  createResourceServer,
  devTrustDomain,
  type ResourceServer,
  TokenRejectedError,
  VerificationUnavailableError,
} from '../src';
import { startFeedBreaker } from './support/feed-breaker';
import {
  AGENT_A,
  AGENT_B,
  type LiveBroker,
  ORCHESTRATOR,
  RESOURCE,
  startLiveBroker,
} from './support/live-broker';

const RESOURCE_URL = 'https://orders.example/api';

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the token was accepted');
    },
    (e: unknown) => e as TokenRejectedError,
  );

describe('resource-server kit against a live broker', () => {
  let b: LiveBroker;
  let breaker: Awaited<ReturnType<typeof startFeedBreaker>>;
  let rs: ResourceServer;
  beforeAll(async () => {
    b = await startLiveBroker();
    breaker = await startFeedBreaker(b.url);
    rs = await createResourceServer({
      broker: breaker.url,
      resource: RESOURCE_URL,
      identity: devTrustDomain({ spiffeId: RESOURCE, home: b.t.home }),
      scopesSupported: ['kv:demo/api-key'],
      feed: { backoff: { baseMs: 20, maxMs: 100 }, staleAfterMs: 15_000 },
    });
    await rs.feed!.ready(5000);
  });
  afterAll(async () => {
    await rs?.close();
    await breaker?.close();
    await b?.stop();
  });

  const grantFor = async (taskId: string, audience = RESOURCE_URL, scopes = ['kv:demo/api-key']) =>
    b.as(AGENT_A).grants.request(taskId, { scopes, audience });

  test('when a token for this resource with the scope is presented, then it verifies with its task, holder and chain', async () => {
    const taskId = await b.openTask();
    const g = await grantFor(taskId);
    const v = await rs.verify(g.access_token, { scopes: ['kv:demo/api-key'] });
    expect(v).toMatchObject({ jti: g.grant_id, taskId, clientId: AGENT_A, subject: ORCHESTRATOR });
    expect(v.audience).toEqual([RESOURCE_URL]);
    expect(v.act).toEqual({ sub: AGENT_A });
  });

  test('when a token for another audience is presented, then it is refused 401 wrong_audience', async () => {
    const g = await grantFor(await b.openTask(), 'https://billing.example/api');
    const err = await rejection(rs.verify(g.access_token));
    expect(err).toBeInstanceOf(TokenRejectedError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_token', reason: 'wrong_audience' });
  });

  test('when the token lacks a scope the call needs, then it is 403 insufficient_scope naming the scopes', async () => {
    const g = await grantFor(await b.openTask());
    const err = await rejection(rs.verify(g.access_token, { scopes: ['kv:demo/api-key', 'db:demo:read'] }));
    expect(err).toMatchObject({ status: 403, code: 'insufficient_scope', reason: 'missing_scope' });
    expect(err.requiredScopes).toEqual(['kv:demo/api-key', 'db:demo:read']);
  });

  test('when a token is tampered with, or a delegation token is passed off as an access token, then it is refused', async () => {
    const taskId = await b.openTask({ agents: [AGENT_A, AGENT_B] });
    const g = await grantFor(taskId);
    const [h, p, s] = g.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'db:demo:read' })).toString('base64url')}.${s}`;
    expect(await rejection(rs.verify(forged))).toMatchObject({ reason: 'bad_signature' });
    const offer = await b
      .as(AGENT_A)
      .grants.delegate(g.grant_id, { to: AGENT_B, scopes: ['kv:demo/api-key'] });
    expect((await rejection(rs.verify(offer.delegation_token))).status).toBe(401);
    expect(await rejection(rs.verify(''))).toMatchObject({ reason: 'missing' });
  });

  test('when a task is closed, then the kit refuses its tokens within 100 ms from the feed, without introspection', async () => {
    const orch = b.as(ORCHESTRATOR);
    const afterReturn: number[] = [];
    const fromCall: number[] = [];
    const introspectionsBefore = breaker.count('/oauth2/introspect');
    for (let i = 0; i < 10; i++) {
      const taskId = await b.openTask();
      const g = await grantFor(taskId);
      await rs.verify(g.access_token);
      const heard = new Promise<number>((resolve) => {
        const on = (item: { jti: string }) => {
          if (item.jti !== g.grant_id) return;
          rs.feed!.off('revoked', on);
          resolve(performance.now());
        };
        rs.feed!.on('revoked', on);
      });
      const t0 = performance.now();
      await orch.tasks.close(taskId);
      const t1 = performance.now();
      const err = await Promise.race([
        heard.then(() => rejection(rs.verify(g.access_token))),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('not refused within 2 s')), 2000),
        ),
      ]);
      const refusedAt = performance.now();
      expect(err).toMatchObject({ reason: 'revoked', status: 401 });
      afterReturn.push(Math.max(0, refusedAt - t1));
      fromCall.push(refusedAt - t0);
    }
    const max = (xs: number[]) => Math.max(...xs);
    const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
    console.log(
      `kit refusal after close (10 closes): from close's return median ${median(afterReturn).toFixed(1)} ms, ` +
        `max ${max(afterReturn).toFixed(1)} ms; from the close call median ${median(fromCall).toFixed(1)} ms, ` +
        `max ${max(fromCall).toFixed(1)} ms`,
    );
    // The figure is printed above and measured on a quiet machine by `npm run bench` (shared CI cores make a
    // timed assertion flaky); here the bound only says the refusal came from the pushed feed, not a poll.
    expect(median(afterReturn)).toBeLessThanOrEqual(1000);
    expect(breaker.count('/oauth2/introspect')).toBe(introspectionsBefore);
  });

  test('when the feed is down, then every token is introspected (a revoked one refused), and the feed resumes from its cursor with Last-Event-ID', async () => {
    const taskId = await b.openTask();
    const live = await grantFor(taskId);
    const doomed = await grantFor(taskId);
    breaker.cutStream();
    await waitFor(() => !rs.feed!.isLive());
    const before = breaker.count('/oauth2/introspect');
    await b.as(AGENT_A).grants.revoke(doomed.grant_id);
    expect(await rejection(rs.verify(doomed.access_token))).toMatchObject({ reason: 'revoked' });
    expect((await rs.verify(live.access_token)).jti).toBe(live.grant_id);
    expect(breaker.count('/oauth2/introspect')).toBe(before + 2);

    breaker.restore();
    await rs.feed!.ready(5000);
    // The revocation made while the stream was cut is known once it is back, and introspection stops.
    expect(rs.feed!.isRevoked(doomed.grant_id)).toBe(true);
    expect(Number(breaker.lastEventIds.at(-1))).toBe(rs.feed!.cursor());
    expect(rs.feed!.cursor()).toBeGreaterThan(0);
    const after = breaker.count('/oauth2/introspect');
    await rs.verify(live.access_token);
    expect(breaker.count('/oauth2/introspect')).toBe(after);
  });

  test('when the feed and introspection are both unreachable, then the kit fails closed (503), never accepting', async () => {
    const g = await grantFor(await b.openTask());
    breaker.cutAll();
    try {
      await waitFor(() => !rs.feed!.isLive());
      await expect(rs.verify(g.access_token)).rejects.toBeInstanceOf(VerificationUnavailableError);
    } finally {
      breaker.restore();
    }
    await rs.feed!.ready(5000);
    expect((await rs.verify(g.access_token)).jti).toBe(g.grant_id);
  });

  test('when a kit is closed while it is still catching up, then close returns and nothing keeps streaming', async () => {
    for (let i = 0; i < 5; i++) {
      const kit = await createResourceServer({
        broker: b.url,
        resource: RESOURCE_URL,
        identity: devTrustDomain({ spiffeId: RESOURCE, home: b.t.home }),
      });
      await new Promise((r) => setTimeout(r, i * 3));
      await kit.close();
      expect(kit.feed!.isLive()).toBe(false);
    }
  });

  test('when the JWKS is the broker’s, then jose agrees the token is an RFC 9068 at+jwt for this resource', async () => {
    const g = await grantFor(await b.openTask());
    const { createRemoteJWKSet } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(`${b.url}/.well-known/jwks.json`));
    const { protectedHeader } = await jwtVerify(g.access_token, jwks, {
      audience: RESOURCE_URL,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    await expect(jwtVerify(g.access_token, jwks, { audience: 'other' })).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
