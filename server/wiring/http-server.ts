import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/config';
import type { IdentityService } from '../identity';

/**
 * Requests Node's HTTP parser refuses before express sees them (headers beyond its 16 KiB limit, a
 * malformed request line) still get DESIGN's error shape instead of a bare status line; the connection
 * is then closed, since the rest of that request cannot be parsed.
 */
function answerParserErrors(server: http.Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: tooLarge ? 'the request headers are larger than 16 KiB' : 'the request is malformed',
    });
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Listens (every listener answers unparsable requests in the error shape, see answerParserErrors). */
export function listen(server: http.Server, host: string, port: number): Promise<void> {
  answerParserErrors(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export const urlOf = (scheme: 'http' | 'https', host: string, server: http.Server): string =>
  `${scheme}://${host}:${(server.address() as AddressInfo).port}`;

/** Stops accepting, closes idle keep-alive sockets, and cuts the rest only after the grace period. */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** The mTLS listener: X509-SVIDs verified per trust domain by the identity service. */
export async function startTlsServer(
  config: Config,
  identity: IdentityService,
  app: http.RequestListener,
): Promise<{ url: string; close(): Promise<void> }> {
  const tls = config.http.tls!;
  const server = https.createServer(
    identity.tlsServerOptions(fs.readFileSync(tls.certFile, 'utf8'), fs.readFileSync(tls.keyFile, 'utf8')),
    app,
  );
  await listen(server, config.http.host, tls.port);
  return {
    url: urlOf('https', config.http.host, server),
    close: () => closeServer(server, config.http.shutdownGraceSeconds * 1000),
  };
}
