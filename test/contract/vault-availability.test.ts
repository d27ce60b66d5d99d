import { createServer } from 'node:net';
import { createVaultAdapter, type VaultAdapter, VaultUnavailable } from '../../server/vault';
import { type ContractEnv, itDevOnly, logger, REAL_VAULT, setupContractEnv } from './contract-env';

// Generous for CI noise, far below what a missing timeout would take (node-vault has none by default).
const MARGIN_MS = 750;

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function timed<T>(work: Promise<T>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, ms: Date.now() - started };
}

describe('contract: an unreachable or sealed Vault is VaultUnavailable', () => {
  let env: ContractEnv;
  beforeAll(async () => {
    env = await setupContractEnv('availability');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('when Vault is up, then health reports it initialised and unsealed', async () => {
    await expect(env.vault.health()).resolves.toMatchObject({
      initialized: true,
      sealed: false,
      version: expect.any(String),
    });
  });

  it('when Vault is stopped, then calls fail as VaultUnavailable within the timeout', async () => {
    let vault: VaultAdapter = env.vault;
    if (REAL_VAULT) {
      vault = createVaultAdapter({ ...env.config, addr: await closedPortUrl(), retries: 0 }, { logger });
    } else {
      await env.dev!.stop();
    }
    try {
      const mint = await timed(
        vault.createOrphanToken({ policies: [env.policy.read], ttlSeconds: 60, displayName: 't' }),
      );
      expect(mint.err).toBeInstanceOf(VaultUnavailable);
      expect(mint.err).toMatchObject({ status: 503, code: 'unavailable' });
      expect(mint.ms).toBeLessThan(env.config.timeoutMs + MARGIN_MS);
      const lookup = await timed(vault.lookupTokenByAccessor('AAAAAAAAAAAAAAAAAAAAAAAA'));
      expect(lookup.err).toBeInstanceOf(VaultUnavailable);
      await expect(vault.health()).rejects.toBeInstanceOf(VaultUnavailable);
    } finally {
      if (!REAL_VAULT) await env.dev!.start();
    }
    await expect(env.vault.health()).resolves.toMatchObject({ sealed: false });
  });

  itDevOnly(
    'when the dev Vault is sealed, then calls fail as VaultUnavailable and health says sealed',
    async () => {
      const task = await env.mintTask();
      await env.dev!.setSealed(true);
      try {
        const err = await env.vault
          .createOrphanToken({ policies: [env.policy.read], ttlSeconds: 60, displayName: 't' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(VaultUnavailable);
        expect((err as VaultUnavailable).vaultStatus).toBe(503);
        await expect(env.vault.lookupTokenByAccessor(task.accessor)).rejects.toBeInstanceOf(VaultUnavailable);
        await expect(env.vault.health()).resolves.toMatchObject({ sealed: true });
      } finally {
        await env.dev!.setSealed(false);
      }
      expect(await env.vault.lookupTokenByAccessor(task.accessor)).toMatchObject({ accessor: task.accessor });
      await env.vault.revokeTokenByAccessor(task.accessor);
    },
  );
});
