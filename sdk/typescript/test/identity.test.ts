import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { initDevTrustDomain, mintDevJwtSvid } from '../../../server/dev/identity/dev-trust-domain';
import { devTrustDomain, IdentityError, refreshBeforeExpiry, staticToken, svidFiles } from '../src';

const AGENT = 'spiffe://dev.grantline.local/agent/researcher';

describe('identity sources', () => {
  let home: string;
  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-sdk-id-'));
    await initDevTrustDomain(home);
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  test('when the dev trust domain mints, then the JWT-SVID is shaped like SPIRE’s and reused until half-life', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const source = devTrustDomain({ spiffeId: AGENT, home, ttlSeconds: 100, now: () => now });
    const first = await source.jwtSvid('grantline');
    expect(decodeProtectedHeader(first)).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) });
    expect(decodeJwt(first)).toMatchObject({ sub: AGENT, aud: ['grantline'], exp: now / 1000 + 100 });
    now += 49_000;
    expect(await source.jwtSvid('grantline')).toBe(first);
    now += 2_000;
    expect(await source.jwtSvid('grantline')).not.toBe(first);
  });

  test('when the dev trust domain is missing or the ID is foreign, then IdentityError says what to do', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-sdk-empty-'));
    try {
      await expect(devTrustDomain({ spiffeId: AGENT, home: empty }).jwtSvid('grantline')).rejects.toThrow(
        /grantline dev init/,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    expect(() => devTrustDomain({ spiffeId: 'spiffe://other.example/agent/x', home })).toThrow(IdentityError);
    expect(() => devTrustDomain({ spiffeId: 'spiffe://dev.grantline.local/a/../b', home })).toThrow(
      IdentityError,
    );
  });

  test('when an SVID file is rotated, then the next call reads the new one; an expired or foreign-audience one is refused', async () => {
    const file = path.join(home, 'svid.jwt');
    const mint = (ttlSeconds: number, audience = 'grantline') =>
      mintDevJwtSvid({ home, spiffeId: AGENT, audience, ttlSeconds });
    const one = await mint(60);
    fs.writeFileSync(file, `${one}\n`);
    const source = svidFiles({ jwt: file });
    expect(await source.jwtSvid('grantline')).toBe(one);
    const two = await mint(120);
    fs.writeFileSync(file, two);
    expect(await source.jwtSvid('grantline')).toBe(two);
    await expect(source.jwtSvid('elsewhere')).rejects.toThrow(/not for audience elsewhere/);
    const late = svidFiles({ jwt: file, now: () => Date.now() + 3600_000 });
    await expect(late.jwtSvid('grantline')).rejects.toThrow(/has expired/);
    await expect(svidFiles({ jwt: path.join(home, 'nope') }).jwtSvid('grantline')).rejects.toThrow(/ENOENT/);
  });

  test('when a static token is not a JWT, then it is refused at once', () => {
    expect(() => staticToken('not a jwt')).toThrow(/compact JWT/);
    expect(() => svidFiles({})).toThrow(IdentityError);
  });
});

describe('refreshBeforeExpiry', () => {
  test('when a refresh fails, then the cached credential serves while usable, and the failure surfaces after', async () => {
    let now = 0;
    let loads = 0;
    let fail = false;
    const get = refreshBeforeExpiry(
      async () => {
        loads++;
        if (fail) throw new Error('agent restarting');
        return { value: `v${loads}`, issuedAt: new Date(now), expiresAt: new Date(now + 100_000) };
      },
      { now: () => now, minRemainingMs: 5_000 },
    );
    expect(await Promise.all([get(), get(), get()])).toEqual(['v1', 'v1', 'v1']);
    expect(loads).toBe(1);
    fail = true;
    now = 60_000;
    expect(await get()).toBe('v1');
    now = 96_000;
    await expect(get()).rejects.toThrow('agent restarting');
    fail = false;
    expect(await get()).toBe('v4');
  });
});
