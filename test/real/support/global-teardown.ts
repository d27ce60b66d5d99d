import fs from 'node:fs';
import stopPostgres from '../../helpers/global-teardown';
import type { Started } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>).__grantlineRealStack as
    | Partial<Started>
    | undefined;
  (globalThis as Record<string, unknown>).__grantlineRealStack = undefined;
  for (const proxy of started?.proxies ?? []) proxy.close();
  await started?.spire?.stop();
  await started?.bao?.stop();
  if (started?.dir) fs.rmSync(started.dir, { recursive: true, force: true });
  await stopPostgres();
}
