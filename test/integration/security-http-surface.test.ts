import net from 'node:net';
import { AGENT_A, startTestBroker, type TestBroker } from '../helpers/broker';
import { openTask, rawCall } from '../helpers/scenario';

/**
 * Sends a request by hand: the headers, then only `sent` of the body the headers announce, and waits for
 * the status line. Resolves with the status (or 'timeout'): a server that answers before the body
 * arrived cannot have read it.
 */
function partialRequest(
  url: string,
  o: { path: string; headers: Record<string, string>; sent: string; waitMs: number },
): Promise<number | 'timeout'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, o.waitMs);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (status) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('connect', () => {
      const head = Object.entries({ host: `${hostname}:${port}`, ...o.headers })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      socket.write(`POST ${o.path} HTTP/1.1\r\n${head}\r\n\r\n${o.sent}`);
    });
  });
}

describe('the HTTP surface: metrics on the operator listener, bodies read only after authentication', () => {
  let t: TestBroker;
  let taskId: string;

  beforeAll(async () => {
    t = await startTestBroker();
    taskId = await openTask(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('when /metrics is asked on the API listener, then 404; on the operator listener (loopback), then Prometheus text', async () => {
    const onApi = await fetch(`${t.broker.url}/metrics`);
    expect(onApi.status).toBe(404);
    expect(await onApi.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });

    const operatorUrl = t.broker.operatorUrl;
    expect(new URL(operatorUrl).hostname).toBe('127.0.0.1');
    const metrics = await fetch(`${operatorUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('grantline_http_request_duration_seconds');
    expect((await fetch(`${operatorUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${operatorUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${operatorUrl}/v1/tasks`)).status).toBe(404);
  });

  test('when an unauthenticated request announces a body it never sends, then 401 without waiting for it', async () => {
    const status = await partialRequest(t.broker.url, {
      path: `/v1/tasks/${taskId}/grants`,
      headers: { 'content-type': 'application/json', 'content-length': '1000' },
      sent: '{"scopes": [',
      waitMs: 3000,
    });
    expect(status).toBe(401);
  });

  test('when an unauthenticated request carries an oversized body, then 401, not 413', async () => {
    const res = await rawCall(t, 'POST', `/v1/tasks/${taskId}/grants`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['kv:demo/api-key'], pad: 'x'.repeat(200 * 1024) }),
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    const form = await rawCall(t, 'POST', '/oauth2/introspect', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${'x'.repeat(200 * 1024)}`,
    });
    expect(form.status).toBe(401);
  });

  test('when an authenticated request carries an oversized body, then 413 as before', async () => {
    const res = await rawCall(t, 'POST', `/v1/tasks/${taskId}/grants`, {
      as: AGENT_A,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['kv:demo/api-key'], pad: 'x'.repeat(200 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  test('when an authenticated request announces a body it never sends, then the server waits for it', async () => {
    const status = await partialRequest(t.broker.url, {
      path: `/v1/tasks/${taskId}/grants`,
      headers: {
        authorization: `Bearer ${await t.svid(AGENT_A)}`,
        'content-type': 'application/json',
        'content-length': '1000',
      },
      sent: '{"scopes": [',
      waitMs: 1500,
    });
    expect(status).toBe('timeout');
  });
});
