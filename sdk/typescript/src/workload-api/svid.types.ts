import type { KeyObject, X509Certificate } from 'node:crypto';

/** One X509-SVID from FetchX509SVID, decoded (SPIFFE Workload API §5.1). */
export interface X509Svid {
  spiffeId: string;
  hint: string;
  /** The certificate chain, leaf first. */
  certificates: X509Certificate[];
  privateKey: KeyObject;
  /** The CA certificates of the SVID's own trust domain. */
  bundle: X509Certificate[];
  /** PEM forms, for Node's `tls` options: the chain (leaf first), the PKCS#8 key, the bundle. */
  certChainPem: string;
  keyPem: string;
  bundlePem: string;
}

/** One FetchX509SVID message: every identity of the caller (the first is the default one). */
export interface X509Context {
  svids: X509Svid[];
  /** CA certificates of federated trust domains, keyed by trust-domain ID (`spiffe://td`). */
  federatedBundles: Map<string, X509Certificate[]>;
}

/** One JWT-SVID from FetchJWTSVID. */
export interface JwtSvid {
  spiffeId: string;
  /** The compact JWS. A credential: never log it. */
  token: string;
  hint: string;
}

/** JWT bundles keyed by trust-domain ID; each value is the JWKS document as sent (JSON text). */
export type JwtBundles = Map<string, string>;

/** X.509 bundles keyed by trust-domain ID. */
export type X509Bundles = Map<string, X509Certificate[]>;
