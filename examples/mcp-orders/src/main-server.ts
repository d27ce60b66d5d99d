import { devTrustDomain, type IdentitySource, svidFiles } from '@grantline/sdk';
import { startOrdersServer } from './orders-server';

export const DEFAULT_TOOL_ID = 'spiffe://dev.grantline.local/resource/mcp-orders';

/** The tool server's SVID: a JWT-SVID file kept fresh by SPIRE's helper, else the dev trust domain. */
export function toolIdentity(env: NodeJS.ProcessEnv): IdentitySource {
  if (env.GRANTLINE_SVID_FILE) return svidFiles({ jwt: env.GRANTLINE_SVID_FILE });
  return devTrustDomain({
    spiffeId: env.MCP_SPIFFE_ID || DEFAULT_TOOL_ID,
    ...(env.GRANTLINE_HOME ? { home: env.GRANTLINE_HOME } : {}),
  });
}

/** `GRANTLINE_URL=… PORT=… node examples/mcp-orders/server.js` */
export async function main(env: NodeJS.ProcessEnv): Promise<void> {
  if (!env.GRANTLINE_URL) throw new Error('set GRANTLINE_URL to the broker (e.g. http://127.0.0.1:8080)');
  const server = await startOrdersServer({
    grantlineUrl: env.GRANTLINE_URL,
    identity: toolIdentity(env),
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT || 3001),
    ...(env.MCP_PUBLIC_URL ? { publicUrl: env.MCP_PUBLIC_URL } : {}),
  });
  process.stdout.write(`orders MCP server at ${server.mcpUrl} (authorization server ${env.GRANTLINE_URL})\n`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
