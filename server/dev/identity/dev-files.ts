import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';

const tmpName = (file: string) => `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;

/**
 * Creates `file` with `content` only if it does not exist, atomically: the content is written to a
 * temporary file first and then hard-linked into place, so concurrent creators (a `dev svid` command
 * while `serve` starts) never see a half-written key, and exactly one of them wins.
 * Returns the content that is in place afterwards (ours or the winner's).
 */
export async function createOnce(file: string, content: string, mode: number): Promise<string> {
  const tmp = tmpName(file);
  await writeFile(tmp, content, { mode, flag: 'wx' });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
  return readFile(file, 'utf8');
}

/** Replaces `file` atomically (write then rename), unless it already holds exactly `content`. */
export async function replaceIfChanged(file: string, content: string, mode: number): Promise<void> {
  const current = await readIfExists(file);
  if (current === content) return;
  const tmp = tmpName(file);
  await writeFile(tmp, content, { mode, flag: 'wx' });
  await rename(tmp, file);
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads `file`, or creates it from `make()` (once, atomically) when it does not exist yet. */
export async function readOrCreate(file: string, make: () => Promise<string>, mode: number): Promise<string> {
  return (await readIfExists(file)) ?? createOnce(file, await make(), mode);
}
