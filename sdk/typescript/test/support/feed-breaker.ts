import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of the broker that can cut the revocation stream (as a load balancer with a short
 * idle timeout, or a broker at its stream limit, would) or everything, and counts requests by path.
 */
export async function startFeedBreaker(target: string) {
  const upstream = new URL(target);
  let mode: 'pass' | 'no-stream' | 'down' = 'pass';
  const streams = new Set<Socket>();
  const counts = new Map<string, number>();
  const lastEventIds: string[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const isStream = (req.headers.accept ?? '').includes('text/event-stream');
    if (mode === 'down' || (mode === 'no-stream' && isStream)) {
      req.socket.destroy();
      return;
    }
    if (isStream) {
      lastEventIds.push(String(req.headers['last-event-id'] ?? ''));
      streams.add(req.socket);
      req.socket.on('close', () => streams.delete(req.socket));
    }
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        up.pipe(res);
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (path: string) => counts.get(path) ?? 0,
    /** The `Last-Event-ID` of each stream request, in order. */
    lastEventIds,
    /** Drops every open revocation stream and refuses new ones; other calls pass. */
    cutStream() {
      mode = 'no-stream';
      for (const s of streams) s.destroy();
    },
    /** Nothing gets through. */
    cutAll() {
      mode = 'down';
      for (const s of streams) s.destroy();
    },
    restore() {
      mode = 'pass';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
