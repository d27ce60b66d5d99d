import type { X509Certificate } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { MAX_PRESENTED_CERTS } from './x509-svid-verifier';

/**
 * Options for the optional mTLS listener.
 *
 * `rejectUnauthorized: false` is deliberate. Node's own verdict is not the one we trust anyway: it
 * accepts a CA certificate as a client leaf and, with several trust domains in one `ca` list, accepts
 * domain B's CA vouching for a domain A ID (identity-standards §3). Every request is therefore verified
 * by `verifyX509Svid` against the bundle of the leaf ID's own trust domain; letting the handshake finish
 * means a bad certificate gets a 401 with a reason instead of an opaque TLS alert.
 *
 * `ca` holds every trust domain's X.509 authorities only so Node asks for, and accepts, client chains
 * that lead to them (it is never the decision, and never the system store: `ca` replaces the Mozilla
 * roots). It is a snapshot: bundle refreshes change our decision at once, not this hint list.
 */
export function buildTlsServerOptions(
  cert: string,
  key: string,
  authorities: X509Certificate[],
): ServerOptions {
  const ca = authorities.map((a) => a.toString());
  return {
    cert,
    key,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ...(ca.length > 0 ? { ca } : {}),
  };
}

/**
 * The chain the client presented, leaf first, as DER. Follows `issuerCertificate` links (Node may
 * append a matching `ca` entry; it is treated as an untrusted intermediate like any other) and stops
 * at a self-signed certificate, whose link points to itself. Collects one more than the verifier
 * accepts, so an oversized chain is rejected rather than silently cut.
 */
export function peerCertificateChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && !seen.has(cert.fingerprint256) && chain.length <= MAX_PRESENTED_CERTS) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}
