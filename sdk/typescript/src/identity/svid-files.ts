import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { IdentityError } from '../errors';
import type { IdentitySource, X509Svid } from './identity-source';

export interface SvidFilesOptions {
  /** A file holding one JWT-SVID (as spiffe-helper or `grantline dev svid > file` writes it). */
  jwt?: string;
  /** PEM certificate chain of the X509-SVID, leaf first. */
  cert?: string;
  /** PEM PKCS#8 private key of the X509-SVID. */
  key?: string;
  /** PEM CA certificates to trust for peers (optional). */
  bundle?: string;
  now?: () => number;
}

/** Reads a file again only when its modification time or size changed. */
function watchedFile(file: string) {
  let cached: { stamp: string; text: string } | undefined;
  return async (): Promise<string> => {
    let stamp: string;
    try {
      const s = await stat(file);
      stamp = `${s.mtimeMs}:${s.size}`;
      if (cached?.stamp === stamp) return cached.text;
      cached = { stamp, text: await readFile(file, 'utf8') };
      return cached.text;
    } catch (err) {
      throw new IdentityError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
        cause: err,
      });
    }
  };
}

function checkJwtSvid(file: string, token: string, audience: string, now: number): string {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch (err) {
    throw new IdentityError(`${file} does not hold a JWT-SVID`, { cause: err });
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience))
    throw new IdentityError(
      `the JWT-SVID in ${file} is not for audience ${audience} (aud: ${aud.join(', ')})`,
    );
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now)
    throw new IdentityError(`the JWT-SVID in ${file} has expired; is the process that rotates it running?`);
  return token;
}

/**
 * SVIDs from files that something else keeps fresh (spiffe-helper, a sidecar, a mounted secret): each call
 * re-reads a file that changed, so a rotated SVID is used at once, and an expired one is an error instead
 * of a 401 from the broker.
 */
export function svidFiles(opts: SvidFilesOptions): IdentitySource {
  if (!opts.jwt && !(opts.cert && opts.key))
    throw new IdentityError('svidFiles needs a jwt file, or cert and key files (or both)');
  if (Boolean(opts.cert) !== Boolean(opts.key)) throw new IdentityError('give both cert and key files');
  const now = opts.now ?? Date.now;
  const jwt = opts.jwt ? watchedFile(opts.jwt) : undefined;
  const cert = opts.cert ? watchedFile(opts.cert) : undefined;
  const key = opts.key ? watchedFile(opts.key) : undefined;
  const bundle = opts.bundle ? watchedFile(opts.bundle) : undefined;

  const source: IdentitySource = {
    async jwtSvid(audience) {
      if (!jwt) throw new IdentityError('this identity has no JWT-SVID file (it authenticates with mTLS)');
      return checkJwtSvid(opts.jwt!, (await jwt()).trim(), audience, now());
    },
  };
  if (cert && key) {
    source.x509Svid = async (): Promise<X509Svid> => {
      const certChainPem = await cert();
      const leaf = new X509Certificate(certChainPem);
      const expiresAt = new Date(leaf.validTo);
      if (expiresAt.getTime() <= now())
        throw new IdentityError(`the X509-SVID in ${opts.cert} expired at ${expiresAt.toISOString()}`);
      return {
        certChainPem,
        keyPem: await key(),
        ...(bundle ? { bundlePem: await bundle() } : {}),
        expiresAt,
      };
    };
  }
  return source;
}
