import { createHmac, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isSpiffeId } from '../../../server/identity/spiffe-id';

/**
 * Generated JWT-SVIDs that must all be refused: wrong or forbidden algorithms, wrong audiences, foreign
 * trust domains, malformed SPIFFE IDs, oversize tokens, broken encodings, bad times and key ids. Each
 * is built by hand (compact JWS) so that nothing a JWT library would refuse to produce is out of reach;
 * the ones that need a real signature are signed with the dev trust domain's own key.
 */

export const OWN_TD = 'dev.grantline.local';
const AUDIENCE = 'grantline';

export interface SvidKeys {
  /** The dev trust domain's JWT-SVID key (the bundle the broker trusts). */
  dev: { kid: string; key: KeyObject; publicJwk: Record<string, unknown> };
  /** A P-256 key of a trust domain the broker has never heard of. */
  foreign: { kid: string; key: KeyObject };
  ed25519: KeyObject;
  rsa: KeyObject;
}

/** Reads the dev trust domain's signing key from a test broker's home directory. */
export function loadSvidKeys(home: string): SvidKeys {
  const jwk = JSON.parse(fs.readFileSync(path.join(home, 'dev-identity', 'jwt-signing-key.json'), 'utf8'));
  const { d: _d, ...publicJwk } = jwk;
  return {
    dev: { kid: jwk.kid, key: createPrivateKey({ key: jwk, format: 'jwk' }), publicJwk },
    foreign: { kid: 'foreign-key', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
    ed25519: generateKeyPairSync('ed25519').privateKey,
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  };
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

type Signer = 'dev' | 'foreign' | 'hmac' | 'ed25519' | 'rsa' | 'none' | 'random';

interface SvidSpec {
  category: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signer: Signer;
  /** Applied to the finished compact token. */
  mangle?: (token: string) => string;
}

function signature(spec: SvidSpec, input: string, keys: SvidKeys): string {
  const data = Buffer.from(input);
  switch (spec.signer) {
    case 'dev':
      return sign('sha256', data, { key: keys.dev.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'foreign':
      return sign('sha256', data, { key: keys.foreign.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'hmac':
      // The classic confusion: the verifier's public key used as an HMAC secret.
      return createHmac('sha256', JSON.stringify(keys.dev.publicJwk)).update(data).digest('base64url');
    case 'ed25519':
      return sign(null, data, keys.ed25519).toString('base64url');
    case 'rsa':
      return sign('sha256', data, keys.rsa).toString('base64url');
    case 'none':
      return '';
    case 'random':
      return Buffer.from(input.slice(0, 64)).toString('base64url');
  }
}

export function buildSvid(spec: SvidSpec, keys: SvidKeys): string {
  const input = `${b64(spec.header)}.${b64(spec.claims)}`;
  const token = `${input}.${signature(spec, input, keys)}`;
  return spec.mangle ? spec.mangle(token) : token;
}

const now = () => Math.floor(Date.now() / 1000);
const goodClaims = (sub = `spiffe://${OWN_TD}/agent/researcher`) => ({
  sub,
  aud: [AUDIENCE],
  iat: now(),
  exp: now() + 300,
});
const devHeader = (keys: SvidKeys, extra: Record<string, unknown> = {}) => ({
  alg: 'ES256',
  kid: keys.dev.kid,
  typ: 'JWT',
  ...extra,
});

const word = fc.string({ minLength: 1, maxLength: 24 });

function algCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  const named = fc.constantFrom<[string, Signer]>(
    ['none', 'none'],
    ['None', 'none'],
    ['HS256', 'hmac'],
    ['HS512', 'hmac'],
    ['EdDSA', 'ed25519'],
    ['ES256K', 'dev'],
    ['es256', 'dev'],
    ['RS256', 'rsa'],
    ['PS256', 'rsa'],
    ['', 'dev'],
  );
  const invented = word
    .filter((a) => !['ES256', 'ES384', 'ES512'].includes(a))
    .map((a): [string, Signer] => [a, 'random']);
  return fc.oneof(named, invented).map(([alg, signer]) => ({
    category: 'wrong alg',
    header: devHeader(keys, { alg }),
    claims: goodClaims(),
    signer,
  }));
}

function audienceCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  const wrong = fc.oneof(
    word.filter((a) => a !== AUDIENCE),
    fc.array(
      word.filter((a) => a !== AUDIENCE),
      { maxLength: 3 },
    ),
    // Several audiences including ours: replayable, refused (GRANTLINE_SVID_ALLOW_MULTI_AUDIENCE unset).
    fc
      .array(
        word.filter((a) => a !== AUDIENCE),
        { minLength: 1, maxLength: 3 },
      )
      .map((o) => [AUDIENCE, ...o]),
    fc.constantFrom<unknown>(undefined, null, 7, {}, [7], ['GRANTLINE'], [`${AUDIENCE} `]),
  );
  return wrong.map((aud) => {
    const claims: Record<string, unknown> = { ...goodClaims(), aud };
    if (aud === undefined) delete claims.aud;
    return { category: 'wrong aud', header: devHeader(keys), claims, signer: 'dev' as const };
  });
}

function foreignCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  const foreignHeader = { alg: 'ES256', kid: keys.foreign.kid, typ: 'JWT' };
  return fc.oneof(
    // A trust domain the broker does not trust at all.
    fc
      .constantFrom('evil.example', 'dev.grantline.local.evil', 'grantline.local', 'partner.example')
      .map((td) => ({
        category: 'foreign trust domain',
        header: foreignHeader,
        claims: goodClaims(`spiffe://${td}/agent/researcher`),
        signer: 'foreign' as const,
      })),
    // Our trust domain's ID, signed by a foreign key (with its own kid, or impersonating ours).
    fc.boolean().map((impersonate) => ({
      category: 'foreign trust domain',
      header: impersonate ? devHeader(keys) : foreignHeader,
      claims: goodClaims(),
      signer: 'foreign' as const,
    })),
  );
}

/** Strings shaped like SPIFFE IDs, and not: every one must fail `isSpiffeId` (checked below). */
const badSpiffeId = fc
  .oneof(
    fc.constantFrom(
      `spiffe://${OWN_TD}`,
      `spiffe://${OWN_TD}/`,
      `spiffe://${OWN_TD}/agent/`,
      `spiffe://${OWN_TD}//agent`,
      `spiffe://${OWN_TD}/agent/../orchestrator/planner`,
      `spiffe://${OWN_TD}/./agent`,
      `spiffe://${OWN_TD}/agent/%72esearcher`,
      `spiffe://${OWN_TD}/agent/researcher?x=1`,
      `spiffe://${OWN_TD}/agent/researcher#f`,
      `spiffe://${OWN_TD}:443/agent/researcher`,
      `spiffe://user@${OWN_TD}/agent/researcher`,
      `spiffe://DEV.grantline.local/agent/researcher`,
      `SPIFFE://${OWN_TD}/agent/researcher`,
      `https://${OWN_TD}/agent/researcher`,
      `spiffe:/${OWN_TD}/agent/researcher`,
      `spiffe:///agent/researcher`,
      `spiffe://${OWN_TD}/agent/research er`,
      `spiffe://${OWN_TD}/agent/résearcher`,
      `spiffe://${OWN_TD}/agent/\u0000`,
      `spiffe://${'a'.repeat(256)}/agent/x`,
      `spiffe://${OWN_TD}/${'a'.repeat(2050)}`,
      '',
    ),
    fc.string({ maxLength: 60 }).map((tail) => `spiffe://${OWN_TD}/${tail}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
  .filter((id) => !isSpiffeId(id, { requirePath: true }));

function spiffeIdCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  return fc
    .oneof(badSpiffeId, fc.constantFrom<unknown>(7, null, ['spiffe://x/y'], { id: 'x' }))
    .map((sub) => ({
      category: 'malformed SPIFFE ID',
      header: devHeader(keys),
      claims: { ...goodClaims(), sub },
      signer: 'dev' as const,
    }));
}

/** Over the 8 KiB a JWT-SVID may have, yet within Node's 16 KiB of headers (beyond: see oversizeHeaders). */
function oversizeCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  return fc.integer({ min: 6200, max: 11_000 }).chain((size) =>
    fc.constantFrom<SvidSpec>(
      {
        category: 'oversize',
        header: devHeader(keys),
        claims: { ...goodClaims(), pad: 'x'.repeat(size) },
        signer: 'dev',
      },
      {
        category: 'oversize',
        header: devHeader(keys, { pad: 'y'.repeat(size) }),
        claims: goodClaims(),
        signer: 'dev',
      },
    ),
  );
}

/** Replaces one character that is not a segment's last (whose spare bits may decode to the same bytes). */
const replaceAt = (token: string, index: number, char: string): string => {
  const ends = new Set([token.indexOf('.') - 1, token.lastIndexOf('.') - 1, token.length - 1]);
  const i = ends.has(index) || token[index] === '.' ? Math.max(0, index - 2) : index;
  if (token[i] === '.' || token[i] === char) return `${token}!`;
  return `${token.slice(0, i)}${char}${token.slice(i + 1)}`;
};

function encodingCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  const mangles: fc.Arbitrary<(t: string) => string> = fc.oneof(
    fc.tuple(fc.nat(), fc.constantFrom('A', 'B', 'z', '0', '-', '_')).map(
      ([n, c]) =>
        (t: string) =>
          replaceAt(t, n % t.length, c),
    ),
    fc.tuple(fc.nat(), fc.constantFrom('!', '=', '+', '/', ' ', '\u00e9', '*')).map(
      ([n, c]) =>
        (t: string) =>
          replaceAt(t, n % t.length, c),
    ),
    fc.constantFrom(
      (t: string) => t.split('.').slice(0, 2).join('.'),
      (t: string) => `${t}.${t.split('.')[2]}`,
      (t: string) => t.replace(/\./g, '..'),
      (t: string) => `${b64('not json')}.${t.split('.').slice(1).join('.')}`,
      (t: string) => `${b64([1, 2])}.${t.split('.').slice(1).join('.')}`,
      (t: string) =>
        `${t.split('.')[0]}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.${t.split('.')[2]}`,
      (t: string) => t.slice(0, t.length - 10),
      (t: string) => Buffer.from(t).toString('base64'),
      () => '',
      () => '..',
    ),
  );
  return mangles.map((mangle) => ({
    category: 'bad encoding',
    header: devHeader(keys),
    claims: goodClaims(),
    signer: 'dev' as const,
    mangle,
  }));
}

function claimCases(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  const t = now();
  const claims = fc.constantFrom<Record<string, unknown>>(
    { exp: t - 3600 },
    { exp: t - 31, iat: t - 100 },
    { nbf: t + 600 },
    { iat: t, exp: t + 7200 },
    { iat: t + 86_400, exp: t + 86_460 },
    { exp: String(t + 60) },
    { exp: undefined },
    { exp: null },
  );
  const headers = fc.constantFrom<Record<string, unknown>>(
    { kid: undefined },
    { kid: '' },
    { kid: 'no-such-kid' },
    { kid: 7 },
    { typ: 'at+jwt' },
    { typ: 'delegation+jwt' },
    { crit: ['exp'] },
  );
  return fc.oneof(
    claims.map((c) => ({
      category: 'bad times',
      header: devHeader(keys),
      claims: { ...goodClaims(), ...c },
      signer: 'dev' as const,
    })),
    headers.map((h) => ({
      category: 'bad header',
      header: devHeader(keys, h),
      claims: goodClaims(),
      signer: 'dev' as const,
    })),
  );
}

/** Every kind of refused SVID, weighted so each category gets a fair share of the runs. */
export function badSvidSpecs(keys: SvidKeys): fc.Arbitrary<SvidSpec> {
  return fc.oneof(
    algCases(keys),
    audienceCases(keys),
    foreignCases(keys),
    spiffeIdCases(keys),
    oversizeCases(keys),
    encodingCases(keys),
    claimCases(keys),
  );
}

/** RFC 9110 §5.5: a field value has no control characters but HTAB; no HTTP client sends others. */
const sendable = (value: string): string =>
  [...value].filter((ch) => ch === '\t' || (ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)).join('');

/** Authorization headers that carry no usable credential at all. */
export const badAuthorizationHeaders: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'Bearer a b',
    'Token abc',
    'Bearer \u00ff\u00fe',
    'bearer',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => sendable(`Bearer ${s}`)),
  fc.integer({ min: 8300, max: 16_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
);

/** Authorization headers beyond Node's 16 KiB header limit: refused by the HTTP parser itself (431). */
export const oversizeHeaders: fc.Arbitrary<string> = fc
  .integer({ min: 17_000, max: 60_000 })
  .map((n) => `Bearer ${'a'.repeat(n)}`);
