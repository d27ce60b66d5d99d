import pMap from 'p-map';
import type { VaultAdapter } from '../vault';

/**
 * The token of a task whose open never recorded it (the broker died between Vault creating it and the
 * row update, or Vault created it and then did not answer): only the task id Grantline puts in every task
 * token's metadata finds it, so every accessor is looked up (sudo, as reconciliation does). Only tasks
 * left so by a crash or an outage take this path. Each one found is revoked and proved gone.
 */
export async function revokeUnrecordedTaskTokens(vault: VaultAdapter, taskId: string): Promise<number> {
  const found: string[] = [];
  await pMap(
    await vault.listTokenAccessors(),
    async (accessor) => {
      const info = await vault.lookupTokenByAccessor(accessor);
      if (info?.meta?.grantline_task === taskId) found.push(accessor);
    },
    { concurrency: 8 },
  );
  for (const accessor of found) {
    await vault.revokeTokenByAccessor(accessor);
    if (await vault.lookupTokenByAccessor(accessor))
      throw new Error(`the unrecorded token ${accessor} of task ${taskId} is still present after revoke`);
  }
  return found.length;
}
