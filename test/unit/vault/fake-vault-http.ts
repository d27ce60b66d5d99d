import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake server saw it. */
export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Reply = { status: number; body?: unknown } | 'hang';
export type Handler = (req: Recorded) => Reply | Promise<Reply>;

/**
 * A tiny HTTP server standing in for Vault in unit tests: records every request (headers included) and
 * answers with what the test's handler returns. `hang` never answers, to exercise timeouts.
 */
export async function startFakeVault(handler: Handler): Promise<{
  url: string;
  requests: Recorded[];
  setHandler(h: Handler): void;
  /** TCP connections accepted so far (keep-alive reuses them). */
  connections(): number;
  close(): Promise<void>;
}> {
  const requests: Recorded[] = [];
  let current = handler;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const rec: Recorded = {
        method: req.method ?? '',
        path: (req.url ?? '').replace(/^\/v1\//, ''),
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      };
      requests.push(rec);
      const reply = await current(rec);
      if (reply === 'hang') return;
      const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, payload ? { 'content-type': 'application/json' } : {});
      res.end(payload);
    });
  });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (h) => {
      current = h;
    },
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const envelope = (extra: Record<string, unknown>) => ({
  request_id: 'r-1',
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data: null,
  wrap_info: null,
  warnings: null,
  auth: null,
  ...extra,
});

let counter = 0;
/** A Vault-like token-create answer; the token value is unique so tests can look for leaks. */
export function authReply(orphan: boolean, policies: string[] = ['default', 'p1']) {
  counter += 1;
  return envelope({
    auth: {
      client_token: `hvs.SECRETTOKEN${counter}xyz`,
      accessor: `accessor${counter}`,
      policies,
      token_policies: policies,
      metadata: null,
      lease_duration: 60,
      renewable: true,
      entity_id: '',
      token_type: 'service',
      orphan,
      num_uses: 0,
    },
  });
}
