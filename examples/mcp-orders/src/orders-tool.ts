import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The orders this example tool counts (a real tool would query its database). */
const ORDERS = [
  { id: 'o-1001', status: 'open' },
  { id: 'o-1002', status: 'shipped' },
  { id: 'o-1003', status: 'open' },
  { id: 'o-1004', status: 'cancelled' },
  { id: 'o-1005', status: 'shipped' },
] as const;

export const ORDERS_SCOPE = 'mcp:orders:read';

/** An MCP server with one read-only tool. Authorization happened before a request gets here. */
export function ordersMcpServer(): McpServer {
  const server = new McpServer({ name: 'grantline-orders-example', version: '0.1.0' });
  server.registerTool(
    'count_orders',
    {
      title: 'Count orders',
      description: `Counts orders, optionally by status. Needs a Grantline token with ${ORDERS_SCOPE}.`,
      inputSchema: { status: z.enum(['open', 'shipped', 'cancelled']).optional() },
      outputSchema: { count: z.number().int(), status: z.string() },
      annotations: { readOnlyHint: true },
    },
    async ({ status }, extra) => {
      const count = ORDERS.filter((o) => !status || o.status === status).length;
      const who = extra.authInfo?.clientId ?? 'unknown';
      return {
        content: [{ type: 'text', text: `${count} ${status ?? 'total'} orders (asked by ${who})` }],
        structuredContent: { count, status: status ?? 'any' },
      };
    },
  );
  return server;
}
