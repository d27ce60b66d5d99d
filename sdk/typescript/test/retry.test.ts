import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BrokerError,
  BrokerUnreachableError,
  createGrantlineClient,
  ServerError,
  staticToken,
  UnavailableError,
} from '../src';
import { backoffDelay, DEFAULT_RETRY } from '../src/http/retry';

const SVID = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
type Step = 'unavailable' | 'reset' | 'server_error' | 'ok' | 'weird';

/** A stand-in broker that answers each request with the next scripted step, and counts them. */
async function scriptedBroker(steps: Step[]) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    const step = steps[Math.min(hits++, steps.length - 1)]!;
    req.resume();
    if (step === 'reset') return req.socket.destroy();
    const body: Record<Exclude<Step, 'reset'>, [number, unknown]> = {
      unavailable: [503, { error: 'unavailable', error_description: 'Vault is down; nothing was issued' }],
      server_error: [500, { error: 'server_error', error_description: 'internal error' }],
      ok: [201, { grant_id: 'g1', access_token: 'x.y.z', secrets: [] }],
      weird: [418, { error: 'teapot_protocol', error_description: 'short and stout', spout: 1 }],
    };
    const [status, json] = body[step];
    res
      .writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' })
      .end(JSON.stringify(json));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = createGrantlineClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    identity: staticToken(SVID),
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
  return {
    client,
    hits: () => hits,
    close: async () => {
      await client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const request = (c: Awaited<ReturnType<typeof scriptedBroker>>) =>
  c.client.grants.request('t1', { scopes: ['kv:demo/api-key'], audience: 'x' });

describe('retries: only where a repeat cannot issue twice', () => {
  test('when a grant request gets 503 unavailable, then it is retried (nothing was issued) and succeeds', async () => {
    const b = await scriptedBroker(['unavailable', 'unavailable', 'ok']);
    try {
      expect((await request(b)).grant_id).toBe('g1');
      expect(b.hits()).toBe(3);
    } finally {
      await b.close();
    }
  });

  test('when a grant request loses its connection or gets a 500, then it is not retried: the outcome is unknown', async () => {
    for (const [step, cls] of [
      ['reset', BrokerUnreachableError],
      ['server_error', ServerError],
    ] as const) {
      const b = await scriptedBroker([step, 'ok']);
      try {
        await expect(request(b)).rejects.toBeInstanceOf(cls);
        expect(b.hits()).toBe(1);
      } finally {
        await b.close();
      }
    }
  });

  test('when a GET loses its connection, then it is retried; when 503 persists, then it gives up after the attempts', async () => {
    const flaky = await scriptedBroker(['reset', 'ok']);
    try {
      await flaky.client.tasks.show('t1');
      expect(flaky.hits()).toBe(2);
    } finally {
      await flaky.close();
    }
    const down = await scriptedBroker(['unavailable']);
    try {
      const err = await down.client.tasks.show('t1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err).toMatchObject({ code: 'unavailable', status: 503, retryAfterSeconds: 0 });
      expect(down.hits()).toBe(3);
    } finally {
      await down.close();
    }
  });

  test('when the broker answers a code this SDK does not know, then it is a BrokerError with that code and its details', async () => {
    const b = await scriptedBroker(['weird']);
    try {
      const err = await b.client.tasks.show('t1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerError);
      expect(err).toMatchObject({ code: 'teapot_protocol', status: 418, details: { spout: 1 } });
    } finally {
      await b.close();
    }
  });

  test('when the broker asks to wait (Retry-After), then the backoff waits at least that long, capped', () => {
    const err = new UnavailableError(503, { error: 'unavailable' }, 2);
    expect(backoffDelay(DEFAULT_RETRY, 1, err, () => 0)).toBe(2000);
    expect(backoffDelay({ ...DEFAULT_RETRY, maxDelayMs: 500 }, 1, err, () => 0)).toBe(500);
    expect(backoffDelay(DEFAULT_RETRY, 3, new Error('x'), () => 0.999)).toBeLessThanOrEqual(1600);
  });
});
