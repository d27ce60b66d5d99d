import { constants, type X509Certificate } from 'node:crypto';
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
 *
 * Session tickets are off: a resumed session does not carry the client's intermediates [L: Node 20.20],
 * so an SVID issued by an intermediate CA would fail on every resumed connection.
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
    secureOptions: constants.SSL_OP_NO_TICKET,
    ...(ca.length > 0 ? { ca } : {}),
  };
}

// Node 20 hands out the peer chain only once per connection: after the first `getPeerCertificate(true)`
// or `getPeerX509Certificate()` call, later calls return the leaf alone [L: Node 20.20]. The chain is
// therefore read once and kept for the life of the socket (every request on it re-verifies it).
const chains = new WeakMap<TLSSocket, Buffer[]>();

/**
 * Follows `issuerCertificate` links (Node may append a matching `ca` entry; it is treated as an
 * untrusted intermediate like any other) and stops at a self-signed certificate, whose link points to
 * itself. Collects one more than the verifier accepts, so an oversized chain is rejected, not cut.
 */
function readChain(socket: TLSSocket): Buffer[] {
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

/**
 * The chain the client presented, leaf first, as DER (empty without a client certificate). Anything
 * that needs the peer certificate must go through here, never through the socket methods directly.
 */
export function peerCertificateChain(socket: TLSSocket): Buffer[] {
  let chain = chains.get(socket);
  if (!chain) {
    chain = readChain(socket);
    chains.set(socket, chain);
  }
  return chain;
}
