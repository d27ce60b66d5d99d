// @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect metadata polyfill
// loaded before the library itself. Import the library only through this module.
import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export { x509 };

export interface CertValidity {
  notBefore: Date;
  notAfter: Date;
}

// Node 20's X509Certificate only has string dates; parse them once per certificate object instead.
const validityCache = new WeakMap<X509Certificate, CertValidity>();

/** The validity period of a Node certificate (throws if @peculiar/x509 cannot parse its DER). */
export function certValidity(cert: X509Certificate): CertValidity {
  let validity = validityCache.get(cert);
  if (!validity) {
    const parsed = new x509.X509Certificate(cert.raw);
    validity = { notBefore: parsed.notBefore, notAfter: parsed.notAfter };
    validityCache.set(cert, validity);
  }
  return validity;
}
