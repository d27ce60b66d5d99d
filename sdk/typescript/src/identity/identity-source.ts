/** An X509-SVID for mTLS: the leaf first in `certChainPem`, its PKCS#8 key, and the trust bundle. */
export interface X509Svid {
  certChainPem: string;
  keyPem: string;
  /** The CA certificates that vouch for peers (and for the broker's own certificate when it is an SVID). */
  bundlePem?: string;
  expiresAt: Date;
}

/**
 * Where a workload's SPIFFE identity comes from. Implementations hand out SVIDs that are still valid for a
 * while: they refresh (or re-read) them before they expire, so callers just ask every time.
 *
 * Sources shipped here: {@link svidFiles}, {@link devTrustDomain}, {@link staticToken}. A SPIFFE Workload
 * API source (`SPIFFE_ENDPOINT_SOCKET`) implements the same interface.
 */
export interface IdentitySource {
  /** A JWT-SVID whose `aud` contains `audience` (the broker's audience, `grantline` by default). */
  jwtSvid(audience: string): Promise<string>;
  /** The X509-SVID to present over mTLS, for sources that have one. */
  x509Svid?(): Promise<X509Svid>;
  /** Stops background refreshes or streams, if any. */
  close?(): Promise<void> | void;
}
