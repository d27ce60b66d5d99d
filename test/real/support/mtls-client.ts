import https from 'node:https';
import type { PeerCertificate } from 'node:tls';

export interface MtlsReply {
  status: number;
  body: any;
  /** The broker's server certificate as this connection saw it. */
  server: PeerCertificate;
}

/**
 * An HTTPS request to the broker's mTLS listener. The broker's certificate is its X509-SVID: verified
 * against the SPIRE bundle (never the system store) and its one URI SAN must be the broker's SPIFFE ID
 * (Node ignores URI SANs, so the name check is ours).
 */
export function mtlsRequest(
  baseUrl: string,
  o: {
    method: string;
    path: string;
    client?: { certPem: string; keyPem: string };
    bundlePem: string;
    brokerId: string;
    body?: unknown;
  },
): Promise<MtlsReply> {
  const url = new URL(o.path, baseUrl);
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: o.method,
        agent: false,
        ca: o.bundlePem,
        ...(o.client ? { cert: o.client.certPem, key: o.client.keyPem } : {}),
        checkServerIdentity: (_host, cert) =>
          cert.subjectaltname === `URI:${o.brokerId}`
            ? undefined
            : new Error(`the broker presented ${cert.subjectaltname}, not ${o.brokerId}`),
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const server = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, server });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
