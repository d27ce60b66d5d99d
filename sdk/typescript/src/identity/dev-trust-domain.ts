import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { importJWK, type JWK, SignJWT } from 'jose';
import { IdentityError } from '../errors';
import type { IdentitySource } from './identity-source';
import { refreshBeforeExpiry } from './refresh';

export const DEV_TRUST_DOMAIN = 'dev.grantline.local';
/** The layout `grantline serve` and `grantline dev init` create under `$GRANTLINE_HOME`. */
const JWT_KEY_FILE = path.join('dev-identity', 'jwt-signing-key.json');
/** SPIFFE ID path segments: letters, digits, `.`, `-`, `_` (SPIFFE-ID §2.2), no empty, `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9._-]+$/;

export interface DevTrustDomainOptions {
  /** A workload of `spiffe://dev.grantline.local`, e.g. `spiffe://dev.grantline.local/agent/researcher`. */
  spiffeId: string;
  /** Where the broker keeps its state; default `$GRANTLINE_HOME`, else `.grantline`. */
  home?: string;
  /** Lifetime of each minted JWT-SVID (default 300 s); a new one is minted at half-life. */
  ttlSeconds?: number;
  now?: () => number;
}

function checkDevId(spiffeId: string): string {
  const prefix = `spiffe://${DEV_TRUST_DOMAIN}/`;
  const segments = spiffeId.startsWith(prefix) ? spiffeId.slice(prefix.length).split('/') : [];
  const ok = segments.length > 0 && segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok) throw new IdentityError(`the dev trust domain only issues SVIDs for ${prefix}<path>: ${spiffeId}`);
  return spiffeId;
}

async function loadKey(home: string): Promise<{ key: Awaited<ReturnType<typeof importJWK>>; kid: string }> {
  const file = path.join(home, JWT_KEY_FILE);
  let jwk: JWK & { kid?: string };
  try {
    jwk = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new IdentityError(
      `no dev trust domain at ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): ` +
        'start `grantline serve` or run `grantline dev init` with the same GRANTLINE_HOME',
      { cause: err },
    );
  }
  if (!jwk.kid || !jwk.d) throw new IdentityError(`${file} is not the dev trust domain's signing key`);
  return { key: await importJWK(jwk, 'ES256'), kid: jwk.kid };
}

/**
 * JWT-SVIDs signed with the dev trust domain's key in `$GRANTLINE_HOME` (as `grantline dev svid` does),
 * shaped like SPIRE's: ES256 with `kid`, `typ: JWT`, `aud` an array. Development only: whoever can read
 * that file can be any workload of the dev trust domain.
 */
export function devTrustDomain(opts: DevTrustDomainOptions): IdentitySource {
  const spiffeId = checkDevId(opts.spiffeId);
  const home = opts.home ?? process.env.GRANTLINE_HOME ?? '.grantline';
  const ttl = opts.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl < 10) throw new IdentityError('ttlSeconds must be an integer ≥ 10');
  const now = opts.now ?? Date.now;
  let key: Promise<{ key: Awaited<ReturnType<typeof importJWK>>; kid: string }> | undefined;
  const perAudience = new Map<string, () => Promise<string>>();

  const mint = async (audience: string) => {
    key ??= loadKey(home).catch((err) => {
      key = undefined;
      throw err;
    });
    const { key: signingKey, kid } = await key;
    const iat = Math.floor(now() / 1000);
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setSubject(spiffeId)
      .setAudience([audience])
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(signingKey);
    return { value, issuedAt: new Date(iat * 1000), expiresAt: new Date((iat + ttl) * 1000) };
  };

  return {
    jwtSvid(audience) {
      let get = perAudience.get(audience);
      if (!get) {
        get = refreshBeforeExpiry(() => mint(audience), { now });
        perAudience.set(audience, get);
      }
      return get();
    },
  };
}
