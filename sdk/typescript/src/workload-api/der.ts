import { X509Certificate } from 'node:crypto';

/**
 * Splits concatenated ASN.1 DER certificates (the Workload API's `x509_svid`, `bundle` and `bundles`
 * fields) into one buffer each. `new X509Certificate(concatenated)` would silently read only the first.
 * Each certificate is a SEQUENCE: tag 0x30, then a definite length (short form, or 0x81..0x84 + bytes).
 */
export function splitDer(buf: Uint8Array): Buffer[] {
  const data = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (data[offset] !== 0x30) throw new Error(`DER: expected a SEQUENCE at byte ${offset}`);
    const first = data[offset + 1];
    if (first === undefined) throw new Error('DER: truncated length');
    let length: number;
    let header: number;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      const bytes = first & 0x7f;
      if (bytes === 0 || bytes > 4) throw new Error('DER: unsupported length encoding');
      if (offset + 2 + bytes > data.length) throw new Error('DER: truncated length');
      length = data.readUIntBE(offset + 2, bytes);
      header = 2 + bytes;
    }
    const end = offset + header + length;
    if (end > data.length) throw new Error('DER: truncated certificate');
    out.push(Buffer.from(data.subarray(offset, end)));
    offset = end;
  }
  return out;
}

/** Concatenated DER certificates → parsed certificates, in order. */
export function parseDerCertificates(buf: Uint8Array): X509Certificate[] {
  return splitDer(buf).map((der) => new X509Certificate(der));
}
