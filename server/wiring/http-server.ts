import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config';
import type { IdentityService } from '../identity';

export function listen(server: http.Server, host: string, port: number): Promise<void> {
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
