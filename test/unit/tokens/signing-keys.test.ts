import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { loadOrCreateDevKey } from '../../../server/dev/signing-key';
import { type Clock, ManualClock, systemClock } from '../../../server/shared/clock';
import type { Logger } from '../../../server/shared/logger';
import { createTokenIssuer } from '../../../server/tokens/access-token';
import { generateSigningKeyPem } from '../../../server/tokens/key-material';
import { loadSigningKeys as loadKeys } from '../../../server/tokens/signing-keys';
import { SigningKeyError } from '../../../server/tokens/token.errors';
import { accessClaims, captureLogger, ISSUER, T0 } from './token-fixtures';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'grantline-keys-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** As the broker wires it: the dev key under `home` when no key file is configured. */
const loadSigningKeys = (o: {
  home: string;
  logger: Logger;
  clock?: Clock;
  keyFile?: string;
  previousKeyFile?: string;
}) =>
  loadKeys({
    ...o,
    fallbackKey: () => loadOrCreateDevKey(o.home, { logger: o.logger, clock: o.clock ?? systemClock }),
  });

async function writeKeyFile(name: string, pem = generateSigningKeyPem()): Promise<string> {
  const path = join(home, name);
  await writeFile(path, pem, { mode: 0o600 });
  return path;
}

describe('development signing key', () => {
  it('when no key exists, then one is generated as PKCS#8 with mode 0600 and described in JSON', async () => {
    const { logger } = captureLogger();
    const clock = new ManualClock(T0);

    const keys = await loadSigningKeys({ home, logger, clock });

    const pemPath = join(home, 'keys', 'signing-key.pem');
    expect((await stat(pemPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'keys'))).mode & 0o777).toBe(0o700);
    expect(await readFile(pemPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const meta = JSON.parse(await readFile(join(home, 'keys', 'signing-key.json'), 'utf8'));
    expect(meta).toEqual({ kid: keys.current.kid, alg: 'ES256', createdAt: T0.toISOString() });
    expect(keys.previous).toBeUndefined();
  });

  it('when the broker restarts, then the same key is reused and its creation time kept', async () => {
    const first = await loadSigningKeys({ home, logger: captureLogger().logger, clock: new ManualClock(T0) });
    const later = new ManualClock(T0.getTime() + 86_400_000);
    const second = await loadSigningKeys({ home, logger: captureLogger().logger, clock: later });

    expect(second.current.kid).toBe(first.current.kid);
    const meta = JSON.parse(await readFile(join(home, 'keys', 'signing-key.json'), 'utf8'));
    expect(meta.createdAt).toBe(T0.toISOString());
  });

  it('when a token is minted before a restart, then it still verifies after', async () => {
    const clock = new ManualClock(T0);
    const before = await loadSigningKeys({ home, logger: captureLogger().logger, clock });
    const token = await createTokenIssuer({ keys: before, issuer: ISSUER, clock }).mintAccessToken(
      accessClaims(clock),
    );
    const after = await loadSigningKeys({ home, logger: captureLogger().logger, clock });

    await expect(
      createTokenIssuer({ keys: after, issuer: ISSUER, clock }).verifyAccessToken(token),
    ).resolves.toMatchObject({ grantId: 'grant-1' });
  });

  it('when two processes start at once on a fresh home, then both end up with one key', async () => {
    const [a, b] = await Promise.all([
      loadSigningKeys({ home, logger: captureLogger().logger }),
      loadSigningKeys({ home, logger: captureLogger().logger }),
    ]);

    expect(a.current.kid).toBe(b.current.kid);
  });

  it('when the key file was loosened to 0644, then it is set back to 0600 with a warning', async () => {
    await loadSigningKeys({ home, logger: captureLogger().logger });
    const pemPath = join(home, 'keys', 'signing-key.pem');
    await chmod(pemPath, 0o644);
    const capture = captureLogger();

    await loadSigningKeys({ home, logger: capture.logger });

    expect((await stat(pemPath)).mode & 0o777).toBe(0o600);
    expect(capture.lines()).toContain('set to 0600');
  });

  it('when keys are loaded, then the log names the kid and never the key material', async () => {
    const capture = captureLogger();
    const keys = await loadSigningKeys({ home, logger: capture.logger });
    const pem = await readFile(join(home, 'keys', 'signing-key.pem'), 'utf8');
    const body = pem.split('\n')[1] ?? '';

    expect(capture.lines()).toContain(keys.current.kid);
    expect(capture.lines()).toContain('generated a development signing key');
    expect(body.length).toBeGreaterThan(20);
    expect(capture.lines()).not.toContain(body);
    expect(capture.lines()).not.toContain('PRIVATE KEY');
    expect(capture.lines()).not.toMatch(/"d":/);
  });
});

describe('signing key files', () => {
  it('when a key file is configured, then it signs and the dev key is not created', async () => {
    const keyFile = await writeKeyFile('current.pem');

    const keys = await loadSigningKeys({ home, keyFile, logger: captureLogger().logger });

    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([keys.current.kid]);
    await expect(stat(join(home, 'keys'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('when the key is rotated, then tokens of the previous key verify and the JWKS lists both', async () => {
    const clock = new ManualClock(T0);
    const oldFile = await writeKeyFile('old.pem');
    const newFile = await writeKeyFile('new.pem');
    const oldKeys = await loadSigningKeys({ home, keyFile: oldFile, logger: captureLogger().logger });
    const oldToken = await createTokenIssuer({ keys: oldKeys, issuer: ISSUER, clock }).mintAccessToken(
      accessClaims(clock),
    );

    const rotated = await loadSigningKeys({
      home,
      keyFile: newFile,
      previousKeyFile: oldFile,
      logger: captureLogger().logger,
    });
    const issuer = createTokenIssuer({ keys: rotated, issuer: ISSUER, clock });

    await expect(issuer.verifyAccessToken(oldToken)).resolves.toMatchObject({ kid: oldKeys.current.kid });
    const newToken = await issuer.mintAccessToken(accessClaims(clock));
    await expect(issuer.verifyAccessToken(newToken)).resolves.toMatchObject({ kid: rotated.current.kid });
    expect(rotated.previous?.kid).toBe(oldKeys.current.kid);
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual([rotated.current.kid, oldKeys.current.kid]);

    const retired = await loadSigningKeys({ home, keyFile: newFile, logger: captureLogger().logger });
    await expect(
      createTokenIssuer({ keys: retired, issuer: ISSUER, clock }).verifyAccessToken(oldToken),
    ).rejects.toMatchObject({ reason: 'unknown_key' });
  });

  it('when the JWKS is published, then it holds public EC members only with kid, alg and use', async () => {
    const keys = await loadSigningKeys({
      home,
      keyFile: await writeKeyFile('a.pem'),
      previousKeyFile: await writeKeyFile('b.pem'),
      logger: captureLogger().logger,
    });

    for (const jwk of keys.jwks().keys) {
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
    keys.jwks().keys[0]!.kid = 'mutated';
    expect(keys.jwks().keys[0]?.kid).toBe(keys.current.kid);
  });

  it('when the kid is computed, then it is the RFC 7638 thumbprint of the public key', async () => {
    const keys = await loadSigningKeys({
      home,
      keyFile: await writeKeyFile('a.pem'),
      logger: captureLogger().logger,
    });
    const { kty, crv, x, y } = keys.current.publicJwk;

    expect(keys.current.kid).toBe(await calculateJwkThumbprint({ kty, crv, x, y }));
  });

  it('when a key file is group readable, then it loads with a warning', async () => {
    const keyFile = await writeKeyFile('loose.pem');
    await chmod(keyFile, 0o640);
    const capture = captureLogger();

    await loadSigningKeys({ home, keyFile, logger: capture.logger });

    expect(capture.lines()).toContain('readable by group or others');
  });

  const p384 = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
  const rsa = () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
  const sec1 = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'sec1',
      format: 'pem',
    }) as string;

  it.each([
    ['a P-384 key', p384],
    ['an RSA key', rsa],
    ['a SEC1 (BEGIN EC PRIVATE KEY) file', sec1],
    ['garbage', () => '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'],
  ])('when the key file holds %s, then start-up fails', async (_label, makePem) => {
    const keyFile = await writeKeyFile('bad.pem', makePem());

    await expect(loadSigningKeys({ home, keyFile, logger: captureLogger().logger })).rejects.toBeInstanceOf(
      SigningKeyError,
    );
  });

  it('when the key file is missing, then start-up fails naming the path', async () => {
    const keyFile = join(home, 'absent.pem');

    await expect(loadSigningKeys({ home, keyFile, logger: captureLogger().logger })).rejects.toThrow(
      `cannot read signing key file ${keyFile} (ENOENT)`,
    );
  });

  it('when previous is configured without current, or equals current, then start-up fails', async () => {
    const keyFile = await writeKeyFile('same.pem');
    const logger = captureLogger().logger;

    await expect(loadSigningKeys({ home, previousKeyFile: keyFile, logger })).rejects.toBeInstanceOf(
      SigningKeyError,
    );
    await expect(loadSigningKeys({ home, keyFile, previousKeyFile: keyFile, logger })).rejects.toBeInstanceOf(
      SigningKeyError,
    );
  });
});
