import { createPrivateKey, type X509Certificate } from 'node:crypto';
import { parseDerCertificates } from './der';
import type { JwtBundles, JwtSvid, X509Bundles, X509Context, X509Svid } from './svid.types';
import { WorkloadApiBadResponse } from './workload-api.errors';

/** Raw messages as proto-loader decodes them (`keepCase: true`, bytes as Buffers). */
export interface RawX509Svid {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}
/**
 * A proto3 `map<string, bytes>`. On the wire a map is a repeated key/value entry message; loaded from a
 * descriptor set, protobufjs hands out those entries as an array instead of an object.
 */
export type RawBytesMap = Record<string, Buffer> | Array<{ key: string; value: Buffer }>;
export interface RawX509SvidResponse {
  svids: RawX509Svid[];
  crl: Buffer[];
  federated_bundles: RawBytesMap;
}
export interface RawBundlesResponse {
  bundles: RawBytesMap;
}

function mapEntries(map: RawBytesMap | undefined): Array<[string, Buffer]> {
  if (!map) return [];
  if (Array.isArray(map)) return map.map((e) => [e.key, e.value]);
  return Object.entries(map);
}
export interface RawJwtSvidResponse {
  svids: Array<{ spiffe_id: string; svid: string; hint: string }>;
}

const toPem = (certs: X509Certificate[]): string => certs.map((c) => c.toString()).join('');

function decodeX509Svid(raw: RawX509Svid): X509Svid {
  const rpc = 'FetchX509SVID';
  if (!raw.spiffe_id) throw new WorkloadApiBadResponse(rpc, 'an SVID without a SPIFFE ID');
  const certificates = parseDerCertificates(raw.x509_svid ?? Buffer.alloc(0));
  if (certificates.length === 0) throw new WorkloadApiBadResponse(rpc, `no certificate for ${raw.spiffe_id}`);
  if (!raw.x509_svid_key?.length)
    throw new WorkloadApiBadResponse(rpc, `no private key for ${raw.spiffe_id}`);
  const privateKey = createPrivateKey({ key: raw.x509_svid_key, format: 'der', type: 'pkcs8' });
  const bundle = parseDerCertificates(raw.bundle ?? Buffer.alloc(0));
  return {
    spiffeId: raw.spiffe_id,
    hint: raw.hint ?? '',
    certificates,
    privateKey,
    bundle,
    certChainPem: toPem(certificates),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    bundlePem: toPem(bundle),
  };
}

function decodeCertMap(map: RawBytesMap | undefined): X509Bundles {
  return new Map(mapEntries(map).map(([td, der]) => [td, parseDerCertificates(der)]));
}

export function decodeX509Context(raw: RawX509SvidResponse): X509Context {
  const svids = (raw.svids ?? []).map(decodeX509Svid);
  if (svids.length === 0) throw new WorkloadApiBadResponse('FetchX509SVID', 'no SVID');
  return { svids, federatedBundles: decodeCertMap(raw.federated_bundles) };
}

export function decodeX509Bundles(raw: RawBundlesResponse): X509Bundles {
  return decodeCertMap(raw.bundles);
}

export function decodeJwtBundles(raw: RawBundlesResponse): JwtBundles {
  return new Map(mapEntries(raw.bundles).map(([td, json]) => [td, Buffer.from(json).toString('utf8')]));
}

export function decodeJwtSvids(raw: RawJwtSvidResponse): JwtSvid[] {
  return (raw.svids ?? []).map((s) => {
    if (!s.spiffe_id || !s.svid) throw new WorkloadApiBadResponse('FetchJWTSVID', 'an empty JWT-SVID');
    return { spiffeId: s.spiffe_id, token: s.svid, hint: s.hint ?? '' };
  });
}
