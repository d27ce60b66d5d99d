import { createHash, X509Certificate } from 'node:crypto';
import type { Clock } from '../shared/clock';
import { authFailure, InvalidSpiffeId } from './identity.errors';
import type { Principal } from './identity.types';
import { parseSpiffeId, type SpiffeId } from './spiffe-id';
import type { TrustBundle } from './trust-bundle';
import { certValidity, signingConstraints, x509 } from './x509-lib';

export interface X509SvidVerifierOptions {
  bundleFor(trustDomain: string): TrustBundle | undefined;
  clock: Clock;
}

/** Certificates a client may present (leaf included); more is rejected before any parsing. */
export const MAX_PRESENTED_CERTS = 10;
const MAX_PATH_DEPTH = 8;
const FORBIDDEN_LEAF_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

const isValidAt = (cert: X509Certificate, now: Date): boolean => {
  const { notBefore, notAfter } = certValidity(cert);
  return notBefore <= now && now <= notAfter;
};

function onlyOne<T extends x509.Extension>(
  cert: x509.X509Certificate,
  type: new (raw: ArrayBuffer) => T,
): T | null {
  const found = cert.getExtensions(type);
  if (found.length > 1) throw authFailure('cert_malformed', 'the client certificate repeats an extension');
  return found[0] ?? null;
}

function readSpiffeId(cert: x509.X509Certificate): SpiffeId {
  const uris = onlyOne(cert, x509.SubjectAlternativeNameExtension)?.names.items.filter(
    (n) => n.type === 'url',
  );
  if (!uris || uris.length === 0)
    throw authFailure('cert_no_uri_san', 'the client certificate has no SPIFFE ID');
  // X509-SVID §2: exactly one URI SAN; validators MUST reject more.
  if (uris.length > 1)
    throw authFailure('cert_multiple_uri_sans', 'the client certificate has several URI SANs');
  try {
    return parseSpiffeId(uris[0]!.value, { requirePath: true });
  } catch (err) {
    if (err instanceof InvalidSpiffeId)
      throw authFailure('cert_invalid_spiffe_id', `the client certificate ${err.message}`);
    throw err;
  }
}

/**
 * Leaf rules of X509-SVID §4.1/§4.3, which Node's TLS does not enforce (identity-standards §3): not a CA,
 * key usage with digitalSignature and without keyCertSign/cRLSign.
 */
function checkLeafFlags(cert: x509.X509Certificate, nodeLeaf: X509Certificate): void {
  if (onlyOne(cert, x509.BasicConstraintsExtension)?.ca || nodeLeaf.ca) {
    throw authFailure('cert_leaf_is_ca', 'a CA certificate cannot authenticate a workload');
  }
  const usages = onlyOne(cert, x509.KeyUsagesExtension)?.usages;
  if (usages === undefined || (usages & x509.KeyUsageFlags.digitalSignature) === 0) {
    throw authFailure('cert_key_usage', 'the client certificate key usage lacks digitalSignature');
  }
  if ((usages & FORBIDDEN_LEAF_USAGES) !== 0) {
    throw authFailure('cert_key_usage', 'the client certificate key usage allows signing certificates');
  }
}

function parseChain(chain: readonly Buffer[]): { leaf: x509.X509Certificate; certs: X509Certificate[] } {
  try {
    const certs = chain.map((der) => new X509Certificate(der));
    for (const cert of certs) certValidity(cert);
    return { leaf: new x509.X509Certificate(chain[0]!), certs };
  } catch {
    throw authFailure('cert_malformed', 'the client certificate chain cannot be parsed');
  }
}

const issuedBy = (child: X509Certificate, issuer: X509Certificate): boolean =>
  child.checkIssued(issuer) && child.verify(issuer.publicKey);

// OpenSSL's checkIssued also refuses an issuer whose key usage lacks keyCertSign; presented intermediates
// are matched by name and signature instead, so checkSigningPath can say why such a chain is refused.
const signedBy = (child: X509Certificate, issuer: X509Certificate): boolean =>
  child.issuer === issuer.subject && child.verify(issuer.publicKey);

/**
 * RFC 5280 path building from the leaf up to an authority of ONE trust domain's bundle, through the
 * presented intermediates (each a CA, valid now, used once). Authorities of other trust domains never
 * count, which is what a merged Node `ca` list gets wrong (identity-standards §3). Returns the signing
 * certificates above the leaf (the authority last), or null when there is no path.
 */
function pathToBundle(
  leaf: X509Certificate,
  presented: X509Certificate[],
  bundle: TrustBundle,
  now: Date,
): X509Certificate[] | null {
  const path: X509Certificate[] = [];
  let current = leaf;
  for (let depth = 0; depth < MAX_PATH_DEPTH; depth++) {
    const child = current;
    const authority = bundle.x509Authorities.find((a) => issuedBy(child, a) && isValidAt(a, now));
    if (authority) return [...path, authority];
    const next = presented.find(
      (c) => !path.includes(c) && signingConstraints(c).ca && isValidAt(c, now) && signedBy(child, c),
    );
    if (!next) return null;
    path.push(next);
    current = next;
  }
  return null;
}

/**
 * The signing certificates of a built path: every intermediate carries keyCertSign (X509-SVID §4.2),
 * and no certificate has more intermediates below it than its pathLenConstraint allows (RFC 5280
 * §4.2.1.9), the bundle's authority included, as go-spiffe's verification (Go's x509) does.
 */
function checkSigningPath(path: X509Certificate[]): void {
  path.forEach((cert, below) => {
    const { keyCertSign, pathLength } = signingConstraints(cert);
    const isAuthority = below === path.length - 1;
    if (!isAuthority && !keyCertSign)
      throw authFailure(
        'cert_intermediate_key_usage',
        'an intermediate certificate may not sign certificates',
      );
    if (pathLength !== undefined && below > pathLength)
      throw authFailure('cert_path_length', 'the chain has more intermediates than a CA allows (pathLen)');
  });
}

function checkLeafValidity(leaf: x509.X509Certificate, now: Date): void {
  if (now < leaf.notBefore)
    throw authFailure('cert_not_yet_valid', 'the client certificate is not valid yet');
  if (now > leaf.notAfter) throw authFailure('cert_expired', 'the client certificate has expired');
}

/** base64url SHA-256 of the DER: RFC 8705 `x5t#S256`, for binding issued tokens to the certificate. */
export const certThumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url');

/**
 * Verifies an X509-SVID chain (leaf first, DER) the way go-spiffe `x509svid.Verify` does: the SPIFFE ID
 * from the leaf, the leaf flags, the bundle of THAT trust domain, then the path to one of its authorities.
 */
export function verifyX509Svid(chain: readonly Buffer[], opts: X509SvidVerifierOptions): Principal {
  if (chain.length === 0) throw authFailure('missing_credential', 'no client certificate was presented');
  if (chain.length > MAX_PRESENTED_CERTS)
    throw authFailure('cert_chain_too_long', 'the client chain is too long');
  const { leaf, certs } = parseChain(chain);
  const id = readSpiffeId(leaf);
  checkLeafFlags(leaf, certs[0]!);
  const bundle = opts.bundleFor(id.trustDomain);
  if (!bundle)
    throw authFailure('cert_unknown_trust_domain', 'the client certificate trust domain is not trusted');
  const now = opts.clock.now();
  checkLeafValidity(leaf, now);
  const path = pathToBundle(certs[0]!, certs.slice(1), bundle, now);
  if (!path)
    throw authFailure('cert_untrusted_chain', 'the client certificate does not chain to its trust domain');
  checkSigningPath(path);
  return {
    spiffeId: id.id,
    trustDomain: id.trustDomain,
    path: id.path,
    via: 'x509-svid',
    certThumbprint: certThumbprint(chain[0]!),
  };
}
