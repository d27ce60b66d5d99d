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

export interface SigningConstraints {
  /** basicConstraints cA (Node's `ca` is also false for a CA whose key usage lacks keyCertSign). */
  ca: boolean;
  /** keyUsage is present and allows signing certificates (X509-SVID §4.2 requires it of signing certs). */
  keyCertSign: boolean;
  /** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9); undefined when unlimited. */
  pathLength: number | undefined;
}

const constraintsCache = new WeakMap<X509Certificate, SigningConstraints>();

/** What a CA certificate may sign (throws if @peculiar/x509 cannot parse its DER). */
export function signingConstraints(cert: X509Certificate): SigningConstraints {
  let constraints = constraintsCache.get(cert);
  if (!constraints) {
    const parsed = new x509.X509Certificate(cert.raw);
    const usages = parsed.getExtension(x509.KeyUsagesExtension)?.usages;
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    const pathLength = basic?.pathLength;
    constraints = {
      ca: basic?.ca === true,
      keyCertSign: usages !== undefined && (usages & x509.KeyUsageFlags.keyCertSign) !== 0,
      pathLength: typeof pathLength === 'number' ? pathLength : undefined,
    };
    constraintsCache.set(cert, constraints);
  }
  return constraints;
}
