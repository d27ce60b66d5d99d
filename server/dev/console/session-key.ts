import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The dev console key under `<home>/keys/console-session.key`, made on first use (a single machine:
 * replicas must share GRANTLINE_CONSOLE_SESSION_KEY_FILE). `wx` keeps a concurrent first start from
 * overwriting the other's key.
 */
export async function devConsoleKeyFile(home: string): Promise<string> {
  const dir = join(home, 'keys');
  const file = join(dir, 'console-session.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(48).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}
