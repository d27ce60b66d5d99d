import { devTrustDomain } from '@grantline/sdk';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  AGENT_A,
  ORCHESTRATOR,
  openTaskBody,
  startTestBroker,
  type TestBroker,
} from '../../../test/helpers/broker';
import { startAgent } from '../src/agent';
import { type OrdersServer, startOrdersServer } from '../src/orders-server';

const TOOL_ID = 'spiffe://dev.grantline.local/resource/mcp-orders';

describe('examples/mcp-orders: Grantline as the authorization server of an MCP tool', () => {
  let t: TestBroker;
  let orders: OrdersServer;
  beforeAll(async () => {
    t = await startTestBroker();
    orders = await startOrdersServer({
      grantlineUrl: t.broker.url,
      identity: devTrustDomain({ spiffeId: TOOL_ID, home: t.home }),
    });
    await orders.kit.feed!.ready(5000);
  });
  afterAll(async () => {
    await orders?.close();
    await t?.stop();
  });

  const openTask = async () =>
    (
      await t.call('POST', '/v1/tasks', {
        as: ORCHESTRATOR,
        body: openTaskBody({
          scopes: ['mcp:orders:read', 'kv:demo/api-key'],
          // The tool's resource URL (RFC 8707) plus another audience, for the wrong-resource case below.
          audiences: [orders.mcpUrl, 'https://other.example/mcp'],
        }),
      })
    ).body.id as string;

  test('when called without a token, then /mcp answers 401 with resource_metadata, and the metadata names Grantline', async () => {
    const res = await fetch(orders.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    const prmUrl = `${new URL(orders.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`;
    expect(challenge).toBe(`Bearer resource_metadata="${prmUrl}"`);
    for (const url of [prmUrl, `${new URL(orders.mcpUrl).origin}/.well-known/oauth-protected-resource`]) {
      const prm = await (await fetch(url)).json();
      expect(prm).toMatchObject({
        resource: orders.mcpUrl,
        authorization_servers: [t.broker.url],
        scopes_supported: ['mcp:orders:read'],
        bearer_methods_supported: ['header'],
      });
    }
  });

  test('when the agent discovers Grantline, gets a grant and calls the tool, then it works until the task closes, and the very next call is 401', async () => {
    const taskId = await openTask();
    const agent = await startAgent({
      mcpUrl: orders.mcpUrl,
      identity: devTrustDomain({ spiffeId: AGENT_A, home: t.home }),
      taskId,
    });
    try {
      expect(agent.issuer).toBe(t.broker.url);
      expect(await agent.countOrders('open')).toEqual({ count: 2, status: 'open' });
      expect(await agent.countOrders()).toEqual({ count: 5, status: 'any' });
      const close = await t.call('POST', `/v1/tasks/${taskId}/close`, { as: ORCHESTRATOR, body: {} });
      expect(close.status).toBe(200);
      const err = await agent.countOrders('open').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamableHTTPError);
      expect((err as StreamableHTTPError).code).toBe(401);
    } finally {
      await agent.close();
    }
  });

  test('when a token lacks mcp:orders:read or is for another resource, then the tool refuses it (403, 401)', async () => {
    const taskId = await openTask();
    const grant = async (scopes: string[], audience: string) =>
      (await t.call('POST', `/v1/tasks/${taskId}/grants`, { as: AGENT_A, body: { scopes, audience } })).body
        .access_token as string;
    const call = (token: string) =>
      fetch(orders.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    const noScope = await call(await grant(['kv:demo/api-key'], orders.mcpUrl));
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get('www-authenticate')).toMatch(
      /error="insufficient_scope".*scope="mcp:orders:read"/,
    );
    const elsewhere = await call(await grant(['mcp:orders:read'], 'https://other.example/mcp'));
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const good = await call(await grant(['mcp:orders:read'], orders.mcpUrl));
    expect(good.status).toBe(200);
    const notBearer = await fetch(orders.mcpUrl, { method: 'POST', headers: { authorization: 'Basic abc' } });
    expect(notBearer.status).toBe(401);
    expect(notBearer.headers.get('www-authenticate')).toMatch(
      /resource_metadata=".*", error="invalid_token"/,
    );
  });
});
