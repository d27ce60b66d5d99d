import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createResourceServer,
  type IdentitySource,
  protectedResourceMetadata,
  type ResourceServer,
  requireGrantlineToken,
} from '@grantline/sdk';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { type Request, type Response } from 'express';
import { ORDERS_SCOPE, ordersMcpServer } from './orders-tool';

export interface OrdersServerOptions {
  /** Grantline's URL (the authorization server). */
  grantlineUrl: string;
  /** The tool server's own SVID (a `/resource/…` workload: it reads the revocation feed). */
  identity: IdentitySource;
  host?: string;
  port?: number;
  /** The public URL of this server, if it differs from http://host:port. */
  publicUrl?: string;
}

export interface OrdersServer {
  /** The MCP endpoint, which is also the resource tokens must be issued for. */
  mcpUrl: string;
  kit: ResourceServer;
  close(): Promise<void>;
}

/** Stateless Streamable HTTP: one MCP server and transport per POST (no sessions to keep or steal). */
async function handleMcp(req: Request, res: Response): Promise<void> {
  const server = ordersMcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

/** Only `tools/call` counts against the grant's actions (`max_actions`): listing tools is free. */
function toolCall(req: IncomingMessage): { tool: string } | undefined {
  const body = (req as IncomingMessage & { body?: { method?: unknown; params?: { name?: unknown } } }).body;
  if (body?.method !== 'tools/call') return undefined;
  return { tool: typeof body.params?.name === 'string' ? body.params.name : 'unknown' };
}

/**
 * The orders MCP server: RFC 9728 metadata naming Grantline, and `/mcp` behind the kit, which accepts only
 * Grantline tokens issued for this URL with `mcp:orders:read` and refuses revoked ones from the feed.
 */
export async function startOrdersServer(o: OrdersServerOptions): Promise<OrdersServer> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));
  const host = o.host ?? '127.0.0.1';
  const httpServer: Server = await new Promise((resolve) => {
    const s = app.listen(o.port ?? 0, host, () => resolve(s));
  });
  const base = o.publicUrl ?? `http://${host}:${(httpServer.address() as AddressInfo).port}`;
  const mcpUrl = `${base.replace(/\/$/, '')}/mcp`;
  let kit: ResourceServer;
  try {
    kit = await createResourceServer({
      broker: o.grantlineUrl,
      resource: mcpUrl,
      identity: o.identity,
      scopesSupported: [ORDERS_SCOPE],
      resourceName: 'Orders (Grantline MCP example)',
    });
  } catch (err) {
    httpServer.close();
    throw err;
  }
  app.use(protectedResourceMetadata(kit));
  app.post(
    '/mcp',
    requireGrantlineToken(kit, { scopes: [ORDERS_SCOPE], meter: toolCall }),
    (req, res, next) => {
      handleMcp(req, res).catch(next);
    },
  );
  // Stateless: no server-initiated stream and no session to delete.
  app.all('/mcp', (_req, res) => {
    res.status(405).set('Allow', 'POST').json({ error: 'method_not_allowed' });
  });
  return {
    mcpUrl,
    kit,
    async close() {
      await kit.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
