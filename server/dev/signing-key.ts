import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import {
  generateSigningKeyPem,
  SIGNING_ALG,
  type SigningKey,
  signingKeyFromPem,
} from '../tokens/key-material';
import { SigningKeyError } from '../tokens/token.errors';

interface KeyMetadata {
  kid: string;
  alg: string;
  createdAt: string;
}

/**
 * The development signing key under `<home>/keys/`: generated on first start, reused afterwards so
 * tokens survive a restart. The PEM is the source of truth; the JSON beside it is descriptive.
 */
export async function loadOrCreateDevKey(
  home: string,
  deps: { logger: Logger; clock: Clock },
  /** `signing-key` (tokens) or `audit-key` (audit checkpoints): `<name>.pem` and `<name>.json`. */
  name = 'signing-key',
): Promise<SigningKey> {
  const dir = join(home, 'keys');
  const keyPath = join(dir, `${name}.pem`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created = await createKeyFileIfMissing(dir, keyPath);
  await tightenMode(keyPath, deps.logger);
  const key = await signingKeyFromPem(await readFile(keyPath, 'utf8'), keyPath);
  await writeMetadataIfStale(join(dir, `${name}.json`), key.kid, deps.clock);
  if (created) {
    deps.logger.warn(
      { kid: key.kid, path: keyPath },
      'generated a development signing key; configure signing key files for production',
    );
  } else {
    deps.logger.info({ kid: key.kid, path: keyPath }, 'using the development signing key');
  }
  return key;
}

/**
 * Writes a new key to a private temp file, then hard-links it into place: `link` fails if the key
 * already exists, so two processes starting together never overwrite each other's key.
 */
async function createKeyFileIfMissing(dir: string, keyPath: string): Promise<boolean> {
  if (await exists(keyPath)) return false;
  const tmp = join(dir, `.${basename(keyPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, generateSigningKeyPem(), { flag: 'wx', mode: 0o600 });
  try {
    await link(tmp, keyPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SigningKeyError(`could not store the development signing key at ${keyPath}`, err);
  } finally {
    await unlink(tmp);
  }
}

/** The key must be readable by its owner only; a looser mode is corrected and reported. */
async function tightenMode(keyPath: string, logger: Logger): Promise<void> {
  const { mode } = await stat(keyPath);
  if ((mode & 0o077) === 0) return;
  await chmod(keyPath, 0o600);
  logger.warn(
    { path: keyPath, mode: (mode & 0o777).toString(8) },
    'signing key file was group/world readable; set to 0600',
  );
}

async function writeMetadataIfStale(metaPath: string, kid: string, clock: Clock): Promise<void> {
  const current = await readMetadata(metaPath);
  if (current?.kid === kid && current.alg === SIGNING_ALG) return;
  const meta: KeyMetadata = { kid, alg: SIGNING_ALG, createdAt: clock.now().toISOString() };
  await writeFile(metaPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
}

async function readMetadata(metaPath: string): Promise<Partial<KeyMetadata> | undefined> {
  let text: string;
  try {
    text = await readFile(metaPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as Partial<KeyMetadata>;
  } catch {
    // A corrupt descriptor is rewritten from the key itself, which is the source of truth.
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
