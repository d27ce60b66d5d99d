import { createGrantlineClient, discoverAuthorizationServer, type IdentitySource } from '@grantline/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface AgentOptions {
  /** The MCP server's endpoint (the protected resource). */
  mcpUrl: string;
  /** This agent's SVID. */
  identity: IdentitySource;
  /** The task the orchestrator opened with this agent in it. */
  taskId: string;
}

/** An MCP client that presents a fixed Grantline access token on every request. */
async function connect(mcpUrl: string, accessToken: string): Promise<Client> {
  const client = new Client({ name: 'grantline-orders-agent', version: '0.1.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
    }),
  );
  return client;
}

/**
 * The agent's side: discover the authorization server from the tool's RFC 9728 metadata, get a grant in
 * the task for the tool's resource URL, and call `count_orders` with the access token.
 */
export async function startAgent(o: AgentOptions) {
  const { resource, authorizationServer } = await discoverAuthorizationServer(o.mcpUrl);
  // The issuer found by discovery is the one every grant answer must name (RFC 9207 `iss`).
  const grantline = createGrantlineClient({
    url: authorizationServer.issuer,
    identity: o.identity,
    issuer: authorizationServer.issuer,
  });
  // RFC 8707: the token is for this resource (its `aud`), which the task declared when it opened.
  const grant = await grantline.grants.request(o.taskId, {
    scopes: resource.scopes_supported ?? ['mcp:orders:read'],
    resource: [resource.resource],
    ttl: 300,
    context: { tool: 'count_orders', target: resource.resource, intent: 'count open orders' },
  });
  const mcp = await connect(o.mcpUrl, grant.access_token);
  return {
    issuer: authorizationServer.issuer,
    grant,
    countOrders: async (status?: 'open' | 'shipped' | 'cancelled') => {
      const result = await mcp.callTool({ name: 'count_orders', arguments: status ? { status } : {} });
      return result.structuredContent as { count: number; status: string };
    },
    async close() {
      await mcp.close();
      await grantline.close();
    },
  };
}
