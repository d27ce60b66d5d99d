import fs from 'node:fs';
import type { EmbeddedDb } from '../../server/dev/postgres/embedded';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>).__grantlineEmbeddedPg as
    | { pg: EmbeddedDb; dir: string }
    | undefined;
  if (!started) return;
  (globalThis as Record<string, unknown>).__grantlineEmbeddedPg = undefined;
  await started.pg.stop();
  fs.rmSync(started.dir, { recursive: true, force: true });
}
