import https from 'node:https';
import type { BundleSource } from './bundle-source';
import { BundleError } from './identity.errors';
import { parseTrustBundle, type TrustBundle } from './trust-bundle';

export interface HttpsSpiffeOptions {
  url: URL;
  trustDomain: string;
  /** The SPIFFE ID the endpoint's X509-SVID must carry (e.g. `spiffe://other.test/spire/server`). */
  endpointSpiffeId: string;
  /** The operator-supplied bundle used until a first bundle has been fetched. */
  bootstrap: BundleSource;
  timeoutMs?: number;
  maxBytes?: number;
}

function get(
  url: URL,
  ca: string[],
  endpointId: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca,
        rejectUnauthorized: true,
        // A fresh connection per load: a pooled socket would skip the handshake, hence the checks below,
        // and could have been authenticated against an older bundle [L: Node 20 keep-alive global agent].
        agent: false,
        timeout: timeoutMs,
        headers: { accept: 'application/json' },
        // Node ignores URI SANs: the endpoint is authenticated by its SPIFFE ID, compared exactly.
        checkServerIdentity: (_host, cert) =>
          cert.subjectaltname === `URI:${endpointId}`
            ? undefined
            : new BundleError(
                `the bundle endpoint presented ${cert.subjectaltname ?? 'no SAN'}, not ${endpointId}`,
              ),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new BundleError(`bundle endpoint answered HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > maxBytes)
            req.destroy(new BundleError(`bundle response is larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    );
    req.on('timeout', () => req.destroy(new BundleError('bundle endpoint timed out')));
    req.on('error', reject);
  });
}

/**
 * A SPIFFE bundle endpoint with the `https_spiffe` profile (SPIFFE Trust Domain and Bundle §5.2.2), e.g.
 * SPIRE's federation endpoint: the server presents an X509-SVID of `endpointSpiffeId`, verified against
 * the X.509 authorities of THAT trust domain only: the last bundle fetched, else the bootstrap bundle.
 */
export function httpsSpiffeBundleSource(opts: HttpsSpiffeOptions): BundleSource {
  return {
    location: `${opts.url.href} (https_spiffe, ${opts.endpointSpiffeId})`,
    async load(current?: TrustBundle) {
      let authorities = current?.x509Authorities ?? [];
      if (authorities.length === 0) {
        authorities = parseTrustBundle(await opts.bootstrap.load(), opts.trustDomain).bundle.x509Authorities;
      }
      if (authorities.length === 0)
        throw new BundleError('no X.509 authority to authenticate the bundle endpoint');
      return get(
        opts.url,
        authorities.map((a) => a.toString()),
        opts.endpointSpiffeId,
        opts.timeoutMs ?? 5000,
        opts.maxBytes ?? 1024 * 1024,
      );
    },
  };
}
